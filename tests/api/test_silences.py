"""Silences over the API: matchers, required comment, flagged alerts still recorded, expiry and end time."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.alerts.rules import default_rules
from monitor.batch import Batch
from monitor.engine import Engine
from monitor.model.profiles import Catalog
from monitor.silences import Silence, covering
from monitor.store import alerts
from tests.api.conftest import Served
from tests.api.test_alert_polling import Writer

SILENCE = {
    "matchers": {"rule": "light-exposure", "location": "fridge-1"},
    "duration_seconds": 3600,
    "created_by": "pharmacist",
    "comment": "defrosting fridge 1, door open on purpose",
}


def test_silence_flags_matching_alerts_which_stay_visible(served: Served) -> None:
    """A silence flags the open alerts it matches (a change pollers see); they stay listed; others not."""
    writer = Writer(served)
    light = writer.open("light-exposure")
    other = writer.open("temperature-high")
    cursor = served.client.get("/api/v1/alerts").json()["cursor"]
    created = served.writer.post("/api/v1/silences", json=SILENCE)
    assert created.status_code == 201, created.text
    silence = created.json()
    assert silence["active"] is True
    assert silence["comment"] == SILENCE["comment"]
    page = served.client.get("/api/v1/alerts", params={"since": cursor}).json()
    assert [(a["id"], a["silenced"], a["silence_id"]) for a in page["alerts"]] == [
        (light, True, silence["id"])
    ]
    everything = {a["id"]: a for a in served.client.get("/api/v1/alerts").json()["alerts"]}
    assert everything[other]["silenced"] is False
    events = served.client.get(f"/api/v1/alerts/{light}").json()["events"]
    assert events[-1]["kind"] == "silenced"


def test_expiring_a_silence_unflags_its_alerts(served: Served) -> None:
    """Expiry ends the silence now, lists it as inactive, and flags its alerts unsilenced."""
    light = Writer(served).open("light-exposure")
    silence = served.writer.post("/api/v1/silences", json=SILENCE).json()
    expired = served.writer.post(f"/api/v1/silences/{silence['id']}/expire", json={"by": "pharmacist"})
    assert expired.status_code == 200
    assert expired.json()["active"] is False
    assert expired.json()["expired_by"] == "pharmacist"
    assert served.client.get("/api/v1/silences", params={"active": True}).json() == []
    assert len(served.client.get("/api/v1/silences").json()) == 1
    alert = served.client.get(f"/api/v1/alerts/{light}").json()
    assert alert["silenced"] is False
    assert [e["kind"] for e in alert["events"]][-2:] == ["silenced", "unsilenced"]
    again = served.writer.post(f"/api/v1/silences/{silence['id']}/expire", json={"by": "pharmacist"})
    assert again.status_code == 422


def test_silence_end_time_and_new_alerts_are_applied_by_the_engine(served: Served, catalog: Catalog) -> None:
    """An alert opened under a silence is flagged at the next batch; when the silence ends it is unflagged."""
    served.writer.post("/api/v1/silences", json={**SILENCE, "duration_seconds": 600})
    writer = Writer(served)
    light = writer.open("light-exposure")
    engine = Engine(writer.conn, catalog, default_rules(served.settings.rules.thresholds()))
    engine.ingest(Batch(), served.clock.wall())
    assert alerts.get(writer.conn, light).silence_id is not None
    engine.ingest(Batch(), served.clock.wall() + 601)
    assert alerts.get(writer.conn, light).silence_id is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"comment": " "}, "comment", id="blank-comment"),
        pytest.param({"created_by": None}, "created_by", id="no-author"),
        pytest.param({"matchers": {}}, "at least one matcher", id="no-matchers"),
        pytest.param({"matchers": {"room": "x"}}, "unknown matcher label(s) room", id="unknown-label"),
        pytest.param({"ends_at": "2030-01-01T00:00:00Z"}, "exactly one of", id="two-ends"),
        pytest.param({"duration_seconds": -5}, "duration_seconds", id="negative-duration"),
    ],
)
def test_bad_silences_are_refused_naming_the_problem(
    shared_served: Served, change: dict[str, Any], message: str
) -> None:
    """A silence without a comment, author or matchers, or with a bad label or end, is a 422 saying which."""
    body = {k: v for k, v in {**SILENCE, **change}.items() if v is not None}
    r = shared_served.writer.post("/api/v1/silences", json=body)
    assert r.status_code == 422
    assert message in r.json()["message"]


def test_covering_picks_the_first_active_matching_silence() -> None:
    """Only silences active at the time and matching every label cover an alert; the oldest wins."""
    labels = {"rule": "light-exposure", "location": "fridge-1", "vial": None}
    silences = [
        Silence(3, {"rule": "light-exposure"}, 0, 100),
        Silence(2, {"rule": "light-exposure", "location": "fridge-2"}, 0, 100),
        Silence(1, {"location": "fridge-1"}, 50, 100),
    ]
    assert covering(silences, labels, 10) == 3
    assert covering(silences, labels, 60) == 1
    assert covering(silences, labels, 100) is None
