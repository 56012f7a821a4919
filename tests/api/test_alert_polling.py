"""Polling alerts: long-polls that wake on a change, the conditional path, filters, concurrent pollers."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from api.deps import AppState
from monitor.store import alerts, sites
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from tests.api.conftest import Served


class Writer:
    """Alert changes written straight to the store, as the bridge's engine would write them."""

    def __init__(self, served: Served) -> None:
        self.conn = served.database.connect()
        self.location_id = sites.location_by_key(self.conn, "fridge-1").id
        self.ts = served.clock.wall()

    def open(self, rule: str, subject: str = "location", **ids: int | None) -> int:
        self.ts += 1
        location_id = ids.get("location_id", self.location_id)
        with transaction(self.conn):
            return alerts.open_alert(
                self.conn,
                alerts.NewAlert(
                    fingerprint=f"{rule}:{subject}:{self.ts}",
                    rule=rule,
                    severity="warning",
                    location_id=location_id,
                    vial_id=ids.get("vial_id"),
                    sensor_id=None,
                    started_ts=self.ts,
                    fired_ts=self.ts,
                    value=1.0,
                    message=f"{rule} {self.ts}",
                ),
            )

    def update(self, alert_id: int) -> None:
        self.ts += 1
        with transaction(self.conn):
            alerts.update(self.conn, alert_id, self.ts, 2.0, "worse")

    def resolve(self, alert_id: int) -> None:
        self.ts += 1
        with transaction(self.conn):
            alerts.resolve(self.conn, alert_id, self.ts, "cleared")


def watcher_waiters(served: Served) -> int:
    state: AppState = served.app.state.vialguard
    return state.watcher.waiters


def in_background(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        out["response"] = fn()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def until_waiting(served: Served, count: int = 1) -> None:
    """Block until ``count`` long-polls are parked in the server (a real server: nothing to drive)."""
    deadline = time.monotonic() + 10
    while watcher_waiters(served) < count:
        assert time.monotonic() < deadline, "the long-poll never started waiting"
        time.sleep(0.01)


def test_long_poll_wakes_on_a_change(served: Served) -> None:
    """A long-poll with nothing new waits, and answers with the change as soon as one is written."""
    cursor = served.client.get("/api/v1/alerts").json()["cursor"]
    thread, out = in_background(
        lambda: served.client.get("/api/v1/alerts", params={"since": cursor, "wait": 30}, timeout=40)
    )
    until_waiting(served)
    alert_id = Writer(served).open("light-exposure")
    thread.join(timeout=40)
    page = out["response"].json()
    assert [a["id"] for a in page["alerts"]] == [alert_id]
    assert page["cursor"] > cursor


def test_conditional_long_poll_waits_for_a_change_instead_of_304(served: Served) -> None:
    """If-None-Match with `wait` is not answered 304 at once: it waits, and a change gives 200."""
    writer = Writer(served)
    writer.open("light-exposure")
    first = served.client.get("/api/v1/alerts", params={"since": 0, "wait": 30})  # has a change: at once
    etag = first.headers["etag"]
    thread, out = in_background(
        lambda: served.client.get(
            "/api/v1/alerts",
            params={"since": 0, "wait": 30},
            headers={"If-None-Match": etag},
            timeout=40,
        )
    )
    until_waiting(served)
    alert_id = writer.open("temperature-high")
    thread.join(timeout=40)
    response = out["response"]
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["alerts"]][-1] == alert_id
    assert response.headers["etag"] != etag


def test_long_poll_without_change_ends_empty_or_304(served: Served) -> None:
    """When `wait` runs out: an empty page with the same cursor, or 304 for a poll holding the ETag."""
    Writer(served).open("light-exposure")
    page = served.client.get("/api/v1/alerts").json()
    empty = served.client.get("/api/v1/alerts", params={"since": page["cursor"], "wait": 0.3})
    assert empty.status_code == 200
    assert empty.json() == {"alerts": [], "cursor": page["cursor"], "has_more": False}
    held = served.client.get(
        "/api/v1/alerts",
        params={"since": page["cursor"], "wait": 0.3},
        headers={"If-None-Match": empty.headers["etag"]},
    )
    assert held.status_code == 304
    assert held.content == b""


def test_filtered_long_poll_sleeps_through_changes_it_does_not_match(served: Served) -> None:
    """A long-poll for one rule keeps waiting through another rule's change, and wakes on its own."""
    writer = Writer(served)
    cursor = served.client.get("/api/v1/alerts").json()["cursor"]
    thread, out = in_background(
        lambda: served.client.get(
            "/api/v1/alerts",
            params={"since": cursor, "wait": 30, "rule": "temperature-high"},
            timeout=40,
        )
    )
    until_waiting(served)
    writer.open("light-exposure")
    deadline = time.monotonic() + 10
    while served.client.get("/api/v1/alerts", params={"since": cursor}).json()["cursor"] == cursor:
        assert time.monotonic() < deadline
    until_waiting(served)  # woken by the light change, it went back to wait
    assert thread.is_alive()
    wanted = writer.open("temperature-high")
    thread.join(timeout=40)
    assert [a["id"] for a in out["response"].json()["alerts"]] == [wanted]


def test_wait_beyond_sixty_seconds_is_refused(served: Served) -> None:
    """`wait` is capped at 60 s: more is a 422 naming the parameter."""
    r = served.client.get("/api/v1/alerts", params={"wait": 61})
    assert r.status_code == 422
    assert "query.wait" in r.json()["message"]


def test_filters_by_rule_class_location_vial_and_state(served: Served) -> None:
    """Each filter narrows the page; unknown location or vial keys are a 404 naming the key."""
    writer = Writer(served)
    vial = vial_store.by_key(writer.conn, "roze-0001")
    assert vial is not None
    light = writer.open("light-exposure")
    potency = writer.open("potency-warning", "vial", vial_id=vial.id)
    writer.resolve(light)

    def ids(**params: Any) -> list[int]:
        r = served.client.get("/api/v1/alerts", params=params)
        assert r.status_code == 200, r.text
        return [a["id"] for a in r.json()["alerts"]]

    assert ids(rule="light-exposure") == [light]
    assert ids(vial="roze-0001") == [potency]
    assert ids(location="fridge-1") == [potency, light]
    assert ids(state="resolved") == [light]
    assert ids(alert_class="data", state="firing") == [potency]
    assert ids(alert_class="sensor-trust") == []
    for params in ({"location": "nowhere"}, {"vial": "no-such-vial"}):
        r = served.client.get("/api/v1/alerts", params=params)
        assert r.status_code == 404
        assert next(iter(params.values())) in r.json()["message"]


def test_limit_pages_with_has_more_and_the_next_cursor(served: Served) -> None:
    """A full page says `has_more` and its cursor resumes exactly after it."""
    writer = Writer(served)
    made = [writer.open("light-exposure") for _ in range(5)]
    seen: list[int] = []
    cursor, pages = 0, 0
    while True:
        page = served.client.get("/api/v1/alerts", params={"since": cursor, "limit": 2}).json()
        seen += [a["id"] for a in page["alerts"]]
        cursor, pages = page["cursor"], pages + 1
        if not page["has_more"]:
            break
    assert seen == made
    assert pages == 3


def test_two_pollers_under_concurrent_updates_never_miss_or_duplicate(served: Served) -> None:
    """Two pollers following cursors while changes are written each see strictly newer changes, and end
    holding exactly the store's final state."""
    writer = Writer(served)
    done = threading.Event()

    def write() -> None:
        open_ids: list[int] = []
        for i in range(90):
            if i % 3 == 0 or not open_ids:
                open_ids.append(writer.open("light-exposure"))
            elif i % 3 == 1:
                writer.update(open_ids[-1])
            else:
                writer.resolve(open_ids.pop(0))
        done.set()

    def poll(limit: int) -> dict[int, tuple[int, str]]:
        view: dict[int, tuple[int, str]] = {}
        cursor, last_seq = 0, 0
        with httpx.Client(base_url=str(served.client.base_url), timeout=30) as client:
            while True:
                finished = done.is_set()
                page = client.get("/api/v1/alerts", params={"since": cursor, "limit": limit}).json()
                for a in page["alerts"]:
                    assert a["seq"] > last_seq, "a change seen twice or out of order"
                    last_seq = a["seq"]
                    view[a["id"]] = (a["seq"], a["state"])
                cursor = page["cursor"]
                if finished and not page["has_more"] and not page["alerts"]:
                    return view

    results: list[dict[int, tuple[int, str]]] = []
    pollers = [threading.Thread(target=lambda n=n: results.append(poll(n))) for n in (3, 7)]
    for t in pollers:
        t.start()
    write()
    for t in pollers:
        t.join(timeout=60)
    final = {a.id: (a.seq, a.state) for a in alerts.changed_since(writer.conn, 0, limit=10_000)}
    assert len(results) == 2
    for view in results:
        assert view == final


@pytest.mark.parametrize("wait", ["abc", "-1"], ids=["not-a-number", "negative"])
def test_bad_wait_with_etag_is_still_validated(served: Served, wait: str) -> None:
    """A conditional poll with a malformed `wait` reaches validation instead of a 304."""
    etag = served.client.get("/api/v1/alerts").headers["etag"]
    r = served.client.get("/api/v1/alerts", params={"wait": wait}, headers={"If-None-Match": etag})
    assert r.status_code == 422
