"""Times and numbers at the API's edge: impossible times refused by name; none stored can break a read."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.reports.layout import local_time
from api.schemas import iso
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from tests.api.conftest import Served

# Each is a valid ISO 8601 time that Python parses, but outside 1970-2200 UTC; the first two are at the
# calendar's edge, where converting the instant back to a date overflows.
OUTSIDE = {
    "year-1-ahead-of-utc": "0001-01-01T00:30:00+01:00",
    "year-9999-behind-utc": "9999-12-31T23:00:00-05:00",
    "before-1970": "1969-12-31T23:59:59Z",
    "after-2200": "2200-01-01T00:00:01Z",
}
FIRST = "1970-01-01T00:00:00Z"
LAST = "2200-01-01T00:00:00Z"


def _vial_id(served: Served, key: str = "infusion-0001") -> int:
    return int(next(v["id"] for v in served.client.get("/api/v1/vials").json() if v["key"] == key))


def _register(time: str) -> dict[str, Any]:
    return {
        "key": "edge-0001",
        "drug": "mecobalamin",
        "form": "dilute-infusion",
        "lot": "L1",
        "location": "fridge-1",
        "packaging": "in-carton",
        "registered_at": time,
    }


def _writes(served: Served, vial_key: str = "infusion-0001") -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Each write that takes a time: its path, the field and a body carrying ``{t}`` there."""
    vial = _vial_id(served, vial_key)
    silence = {"matchers": {"rule": "x"}, "created_by": "p", "comment": "c"}
    return {
        "vial registered_at": ("/api/v1/vials", "registered_at", _register("{t}")),
        "vial event at": (
            f"/api/v1/vials/{vial}/events",
            "at",
            {"kind": "packaging-changed", "packaging": "in-carton", "at": "{t}"},
        ),
        "silence starts_at": (
            "/api/v1/silences",
            "starts_at",
            {**silence, "starts_at": "{t}", "duration_seconds": 60},
        ),
        "silence ends_at": ("/api/v1/silences", "ends_at", {**silence, "ends_at": "{t}"}),
    }


def _fill(body: dict[str, Any], t: str) -> dict[str, Any]:
    return {k: t if v == "{t}" else v for k, v in body.items()}


@pytest.mark.parametrize("time", OUTSIDE.values(), ids=OUTSIDE.keys())
@pytest.mark.parametrize(
    "write", ["vial registered_at", "vial event at", "silence starts_at", "silence ends_at"]
)
def test_times_outside_the_window_are_refused_naming_the_field(
    shared_served: Served, write: str, time: str
) -> None:
    """A time before 1970 or after 2200 UTC in any write is a 422 naming the field; nothing is stored."""
    path, field, body = _writes(shared_served)[write]
    before = shared_served.client.get("/api/v1/audit", headers=shared_served.auth("admin")).json()["entries"]
    r = shared_served.writer.post(path, json=_fill(body, time))
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid request"
    assert field in r.json()["message"]
    assert "1970" in r.json()["message"]
    assert (
        shared_served.client.get("/api/v1/audit", headers=shared_served.auth("admin")).json()["entries"]
        == before
    )


@pytest.mark.parametrize("time", OUTSIDE.values(), ids=OUTSIDE.keys())
@pytest.mark.parametrize("name", ["start", "end"])
@pytest.mark.parametrize(
    "report", ["/api/v1/reports/excursions.csv", "/api/v1/reports/locations/fridge-1.pdf"]
)
def test_report_windows_outside_the_window_are_refused(
    shared_served: Served, report: str, name: str, time: str
) -> None:
    """A report period that starts or ends outside 1970-2200 UTC is a 422 naming the parameter."""
    r = shared_served.client.get(report, params={name: time})
    assert r.status_code == 422, r.text
    assert name in r.json()["message"]


@pytest.mark.parametrize("hours", ["1e-300", "5e-324", "0.0000001"])
def test_a_series_window_too_short_to_hold_its_buckets_is_refused(shared_served: Served, hours: str) -> None:
    """A series window shorter than a second per bucket is a 422 naming ``hours``, not a 500."""
    r = shared_served.client.get("/api/v1/locations/fridge-1/series", params={"hours": hours})
    assert r.status_code == 422, r.text
    assert "hours" in r.json()["message"]


def _legacy_edge_rows(served: Served) -> None:
    """What an older vialguard let in: a vial, an event and a silence at the calendar's edge."""
    conn = served.database.connect()
    try:
        with transaction(conn):
            vial_store.register(
                conn,
                key="legacy-0001",
                drug="mecobalamin",
                form="dilute-infusion",
                lot="L0",
                expiry=None,
                initial_potency_percent=100.0,
                location_id=int(conn.execute("SELECT id FROM locations LIMIT 1").fetchone()[0]),
                packaging="in-carton",
                ts=-62_135_596_800.0 - 1800.0,  # 0001-01-01T00:30:00+01:00
                recorded_ts=served.clock.wall(),
            )
            conn.execute(
                "INSERT INTO silences (matchers, starts_ts, ends_ts, created_by, comment, created_ts)"
                " VALUES ('{\"rule\": \"x\"}', ?, ?, 'p', 'c', ?)",
                (served.clock.wall(), 253_402_318_800.0 + 3600.0, 253_402_318_800.0 + 3600.0),
            )
    except sqlite3.Error as exc:  # pragma: no cover - the schema refusing them is fine too
        pytest.skip(f"the schema refuses such rows: {exc}")
    finally:
        conn.close()


def _read_paths(served: Served) -> list[str]:
    """Every GET route of the API's schema, its path parameters filled with existing things."""
    schema = served.client.get("/openapi.json").json()
    vials = served.client.get("/api/v1/vials").json()
    alerts = served.client.get("/api/v1/alerts").json()["alerts"]
    silences = served.client.get("/api/v1/silences").json()
    values = {
        "vial_id": [str(v["id"]) for v in vials],
        "alert_id": [str(a["id"]) for a in alerts] or ["1"],
        "silence_id": [str(s["id"]) for s in silences] or ["1"],
        "key": [loc["key"] for loc in served.client.get("/api/v1/locations").json()],
    }
    out: list[str] = []
    for path, ops in schema["paths"].items():
        if "get" not in ops:
            continue
        names = re.findall(r"{(\w+)}", path)
        if not names:
            out.append(path)
            continue
        (name,) = names
        out += [path.replace(f"{{{name}}}", v) for v in values[name]]
    return out


def _every_read_answers(served: Served) -> None:
    admin = served.auth("admin")
    failures = []
    for path in _read_paths(served):
        for params in (
            {},
            {"start": FIRST, "end": "1970-12-31T00:00:00Z"},
            {"start": "2199-01-01T00:00:00Z"},
        ):
            r = served.client.get(path, params=params, headers=admin)
            if r.status_code >= 500:
                failures.append(f"{path} {params}: {r.status_code} {r.text[:200]}")
        for hours in ("0.08", str(24 * 366)):
            if path.endswith("/series"):
                r = served.client.get(path, params={"hours": hours})
                if r.status_code >= 500:
                    failures.append(f"{path} hours={hours}: {r.status_code}")
    assert failures == []


def test_the_worst_accepted_values_never_break_a_later_read(served: Served) -> None:
    """Every time each write accepts, from the calendar's edges inwards, leaves every read answering."""
    first = served.writer.post("/api/v1/vials", json=_register(FIRST) | {"key": "since-1970"})
    assert first.status_code == 201, first.text
    accepted = 0
    for n, (path, _field, body) in enumerate(_writes(served, "since-1970").values()):
        for time in [*OUTSIDE.values(), FIRST, LAST]:
            filled = _fill(body, time)
            if path == "/api/v1/vials":
                filled["key"] = f"edge-{n}-{accepted}"
            r = served.writer.post(path, json=filled)
            assert r.status_code < 500, (path, time, r.text)
            accepted += r.status_code < 300
    writes: list[tuple[str, dict[str, Any]]] = [
        ("/api/v1/vials", _register(FIRST) | {"expiry": "x" * 400, "initial_potency_percent": 150}),
        (
            "/api/v1/silences",
            {
                "matchers": {"vial": "edge-0001"},
                "created_by": "\u202e" + "p" * 400,
                "comment": "c",
                "starts_at": LAST,
                "duration_seconds": 366 * 86_400,
            },
        ),
        ("/api/v1/tokens", {"name": "long-lived", "scope": "read", "expires_in_seconds": 315_360_000}),
    ]
    for path, body in writes:
        headers = served.auth("admin") if path.endswith("tokens") else None
        r = served.writer.post(path, json=body, headers=headers)
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
    assert accepted >= 4  # the window's own edges are accepted
    _every_read_answers(served)


def test_stored_times_at_the_calendars_edge_still_read(served: Served) -> None:
    """Rows an older version stored at year 1 and year 9999 with offsets: every read still answers."""
    _legacy_edge_rows(served)
    _every_read_answers(served)
    listed = served.client.get("/api/v1/vials").json()
    legacy = next(v for v in listed if v["key"] == "legacy-0001")
    assert legacy["registered_at"] is None  # no date to show, said as null rather than a 500


@given(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-(10**6), max_value=10**6))
def test_the_apis_time_formatters_are_total(ts: float, offset_seconds: int) -> None:
    """JSON times and report times: a value for any stored float at any offset, never an exception."""
    text = iso(ts)
    assert text is None or text.endswith("Z")
    assert isinstance(local_time(ts, float(offset_seconds)), str)
