"""Vial lifecycle over the API: events at their true times, late entries recompute, clear refusals."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Settings, parse_settings
from monitor.model import kinetics
from monitor.model.profiles import Catalog
from tests.api.conftest import Served
from tests.api.test_api import feed_light
from tests.conftest import simulated_raw


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The simulated site plus a dark cabinet with no light sensor but a worst case of 0 lx."""
    raw = simulated_raw()
    raw["locations"].append(
        {"key": "cabinet", "name": "Dark cabinet", "kind": "cabinet", "worst_case_lux": 0.0}
    )
    return parse_settings(raw, "simulated.toml", {"db_path": tmp_path / "vialguard.db"})


def at(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


def vial(served: Served, key: str) -> dict[str, Any]:
    return next(v for v in served.client.get("/api/v1/vials").json() if v["key"] == key)


def k_infusion(catalog: Catalog) -> float:
    drug = catalog.drug("mecobalamin")
    return kinetics.photolysis_rate_per_lux_hour(drug, drug.forms["dilute-infusion"])


def test_event_recorded_late_recomputes_potency(served: Served, catalog: Catalog) -> None:
    """An hour of 500 lx, then "put in its carton at 30 min" entered afterwards: only 250 lx·h count."""
    t0 = served.clock.wall()
    feed_light(served, catalog, 3601, 500.0)
    infusion = vial(served, "infusion-0001")
    # Effective lux·h are κ_s·τ_pkg·lux·h (unknown lamp, κ_s = 1), τ_pkg from each state's filters
    # (spectral_model.toml): the bag's wall passes 0.88, the carton 0.014 (board is not opaque).
    bag, carton = (catalog.packaging_state(k).tau.value for k in ("infusion-container", "in-carton"))
    assert infusion["effective_lux_hours"] == pytest.approx(500.0 * bag, rel=1e-3)
    r = served.writer.post(
        f"/api/v1/vials/{infusion['id']}/events",
        json={
            "kind": "packaging-changed",
            "packaging": "in-carton",
            "at": at(t0 + 1800),
            "detail": "late entry",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["event"]["at"].startswith(at(t0 + 1800)[:19])
    assert body["event"]["recorded_at"] > body["event"]["at"]
    dose = 250.0 * bag + 250.0 * carton
    assert body["vial"]["effective_lux_hours"] == pytest.approx(dose, rel=1e-3)
    assert body["vial"]["potency_percent"] == pytest.approx(
        100 * math.exp(-k_infusion(catalog) * dose), rel=1e-3
    )
    assert body["vial"]["packaging"] == "in-carton"
    kinds = [e["kind"] for e in served.client.get(f"/api/v1/vials/{infusion['id']}/events").json()]
    assert kinds == ["registered", "packaging-changed"]


def test_moved_to_a_dark_cabinet_stops_the_dose(served: Served, catalog: Catalog) -> None:
    """Moved at 10 min to a dark cabinet, entered later: the fridge's later light no longer counts."""
    t0 = served.clock.wall()
    feed_light(served, catalog, 3601, 500.0)
    v = vial(served, "infusion-0001")
    r = served.writer.post(
        f"/api/v1/vials/{v['id']}/events", json={"kind": "moved", "location": "cabinet", "at": at(t0 + 600)}
    )
    assert r.status_code == 201, r.text
    after = served.client.get(f"/api/v1/vials/{v['id']}").json()
    assert after["location"] == "cabinet"
    bag = catalog.packaging_state(
        "infusion-container"
    ).tau.value  # 0.88: the bag's wall (spectral_model.toml)
    assert after["effective_lux_hours"] == pytest.approx(500.0 * 600 / 3600 * bag, rel=1e-2)


def test_reconstituted_vial_has_at_most_the_labels_60_minutes(served: Served, catalog: Catalog) -> None:
    """§7: after reconstitution the time left is the earlier of the model's and the label's 60 minutes."""
    t0 = served.clock.wall()
    roze = vial(served, "roze-0002")
    assert roze["time_to_threshold"]["limited_by"] == "model"
    r = served.writer.post(f"/api/v1/vials/{roze['id']}/events", json={"kind": "reconstituted", "at": at(t0)})
    assert r.status_code == 201, r.text
    feed_light(served, catalog, 45 * 60, 0.0)
    one = served.client.get(f"/api/v1/vials/{roze['id']}").json()
    ttt = one["time_to_threshold"]
    assert ttt["limited_by"] == "label"
    assert ttt["hours"] == pytest.approx(0.25, abs=1e-3)
    assert ttt["hours_low"] > 1.0
    assert ttt["label_deadline_at"].startswith(at(t0 + 3600)[:19])
    assert one["reconstituted_at"] is not None


def test_administered_vial_stops_and_has_no_time_left(served: Served, catalog: Catalog) -> None:
    """Administered at 20 min: status changes, later light adds nothing, no time to threshold."""
    t0 = served.clock.wall()
    feed_light(served, catalog, 3601, 500.0)
    v = vial(served, "infusion-0001")
    r = served.writer.post(
        f"/api/v1/vials/{v['id']}/events", json={"kind": "administered", "at": at(t0 + 1200)}
    )
    assert r.status_code == 201, r.text
    after = r.json()["vial"]
    assert after["status"] == "administered"
    assert after["time_to_threshold"] is None
    bag = catalog.packaging_state(
        "infusion-container"
    ).tau.value  # 0.88: the bag's wall (spectral_model.toml)
    assert after["effective_lux_hours"] == pytest.approx(500.0 / 3 * bag, rel=1e-2)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "moved"}, "location: required for a moved event"),
        (
            {"kind": "moved", "location": "bench"},
            "location: unknown location 'bench'; known: cabinet, fridge-1",
        ),
        ({"kind": "packaging-changed"}, "packaging: required for a packaging-changed event"),
        ({"kind": "packaging-changed", "packaging": "foil"}, "packaging: unknown packaging state 'foil'"),
        ({"kind": "discarded", "location": "fridge-1"}, "location: a discarded event takes no location"),
        ({"kind": "registered"}, "kind: a vial is registered once"),
        ({"kind": "dropped"}, "kind: unknown event kind 'dropped'"),
        (
            {"kind": "moved", "location": "cabinet", "at": "2026-11-25T10:00:00"},
            "body.at: Input should have timezone",
        ),
        (
            {"kind": "moved", "location": "cabinet", "at": "2100-01-01T00:00:00Z"},
            "at: 2100-01-01T00:00:00Z is in the future",
        ),
        (
            {"kind": "moved", "location": "cabinet", "at": "2000-01-01T00:00:00Z"},
            "at: 2000-01-01T00:00:00Z is before the vial was registered",
        ),
        (
            {"kind": "moved", "location": "cabinet", "colour": "red"},
            "body.colour: Extra inputs are not permitted",
        ),
    ],
    ids=[
        "moved-without-location",
        "unknown-location",
        "packaging-change-without-packaging",
        "unknown-packaging",
        "discard-with-location",
        "registered-again",
        "unknown-kind",
        "naive-time",
        "future",
        "before-registration",
        "extra-field",
    ],
)
def test_bad_events_are_422_naming_the_field(served: Served, body: dict[str, Any], message: str) -> None:
    """A refused event answers 422 with a message naming the field, and records nothing."""
    v = vial(served, "methy-0001")
    r = served.writer.post(f"/api/v1/vials/{v['id']}/events", json=body)
    assert r.status_code == 422
    assert r.json()["error"] == "invalid request"
    assert message in r.json()["message"]
    assert len(served.client.get(f"/api/v1/vials/{v['id']}/events").json()) == 1


def test_nothing_happens_after_a_discard(served: Served) -> None:
    """After a discard, a later event is refused; an administration before a later event is refused too."""
    t0 = served.clock.wall()
    served.clock.advance(600)
    v = vial(served, "methy-0001")
    url = f"/api/v1/vials/{v['id']}/events"
    assert (
        served.writer.post(url, json={"kind": "moved", "location": "cabinet", "at": at(t0 + 300)}).status_code
        == 201
    )
    early = served.writer.post(url, json={"kind": "administered", "at": at(t0 + 100)})
    assert early.status_code == 422
    assert "at: the vial was moved later" in early.json()["message"]
    assert served.writer.post(url, json={"kind": "discarded", "at": at(t0 + 400)}).status_code == 201
    late = served.writer.post(url, json={"kind": "moved", "location": "fridge-1"})
    assert late.status_code == 422
    assert "kind: the vial was discarded at" in late.json()["message"]


def test_register_with_true_time(served: Served) -> None:
    """POST /api/v1/vials takes registered_at; a future one is a 422 naming registered_at."""
    t0 = served.clock.wall()
    body = {
        "key": "roze-0200",
        "drug": "mecobalamin",
        "form": "rozebalamin-25mg",
        "lot": "L9",
        "location": "fridge-1",
        "packaging": "in-carton",
        "expiry": "2027-03-31",
        "initial_potency_percent": 99.2,
        "registered_at": at(t0 - 3600),
    }
    r = served.writer.post("/api/v1/vials", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["registered_at"].startswith(at(t0 - 3600)[:19])
    assert r.json()["potency_percent"] == pytest.approx(99.2, rel=1e-6)
    future = served.writer.post(
        "/api/v1/vials", json={**body, "key": "roze-0201", "registered_at": at(t0 + 86400)}
    )
    assert future.status_code == 422
    assert future.json()["message"].startswith("registered_at:")


def test_events_of_an_unknown_vial_are_404(served: Served) -> None:
    """Posting or listing events of a vial that does not exist answers 404 naming its id."""
    posted = served.writer.post("/api/v1/vials/999/events", json={"kind": "discarded"})
    listed = served.client.get("/api/v1/vials/999/events")
    for r in (posted, listed):
        assert r.status_code == 404
        assert r.json().items() >= {"error": "not found", "detail": "no vial with id 999"}.items()
