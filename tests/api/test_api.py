"""The REST API over a real uvicorn and a real SQLite file."""

from __future__ import annotations

import math

import pytest

from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading
from monitor.engine import Engine
from monitor.model.place_rates import JointRates
from monitor.model.profiles import Catalog
from tests.api.conftest import Served


def feed_light(served: Served, catalog: Catalog, seconds: int, lux: float) -> None:
    """Push ``seconds`` of 1 Hz light readings through the real engine (as the bridge would)."""
    conn = served.database.connect()
    engine = Engine(conn, catalog, default_rules(served.settings.rules.thresholds()))
    t0 = served.clock.wall()
    for start in range(0, seconds, 100):
        batch = Batch(
            light=[LightReading("fridge-1-lux", t0 + i, lux) for i in range(start, min(start + 100, seconds))]
        )
        engine.ingest(batch, t0 + min(start + 100, seconds))
    served.clock.advance(seconds)
    conn.close()


def test_vials_list_shows_configured_vials_at_full_potency(served: Served) -> None:
    """GET /api/v1/vials lists the configured vials with potency, location and packaging."""
    vials = served.client.get("/api/v1/vials").json()
    assert {v["key"] for v in vials} == {"roze-0001", "roze-0002", "methy-0001", "infusion-0001"}
    assert all(v["potency_percent"] == 100.0 and v["location"] == "fridge-1" for v in vials)


def test_light_lowers_potency_by_packaging(served: Served, catalog: Catalog) -> None:
    """An hour at 500 lx leaves the carton all but untouched and the infusion near half potency."""
    feed_light(served, catalog, 3601, 500.0)
    by_key = {v["key"]: v for v in served.client.get("/api/v1/vials").json()}
    # Effective lux·h are κ_s·τ_pkg·lux·h, τ_pkg from each state's spectral filters (spectral_model.toml);
    # the location's lamp is unknown, κ_s = 1.
    tau = {
        k: catalog.packaging_state(k).tau.value for k in ("in-carton", "infusion-container", "amber-glass")
    }
    # Board passes a little light (paperboard 3-5.75 % at 800 nm, J Food Prot 1983): 1.4 % of what a thin
    # solution absorbs, so the carton's Rozebalamin loses 0.02 %, not nothing; at the joint rate of its
    # form in the carton under the unknown lamp (monitor.model.place_rates).
    roze = JointRates(catalog).get("mecobalamin", "rozebalamin-25mg", "unknown", "in-carton")
    assert roze is not None
    carton = 100.0 * math.exp(-roze.best * 500.0)
    assert by_key["roze-0001"]["potency_percent"] == pytest.approx(carton, abs=1e-4)
    assert 99.97 < carton < 100.0
    assert by_key["infusion-0001"]["effective_lux_hours"] == pytest.approx(
        500.0 * tau["infusion-container"], rel=1e-3
    )
    # The calibration solution in its bag reproduces the series' fit at 1 h (V2: 48.3 %); 48.8 before, when
    # F(A) of that solution was applied on top of the rate fitted to it.
    assert by_key["infusion-0001"]["potency_percent"] == pytest.approx(48.3, abs=0.05)
    one = served.client.get(f"/api/v1/vials/{by_key['methy-0001']['id']}").json()
    # Amber glass: 0.21 for a thin solution under FL2 (its curve against MeCbl's absorption), not 0.3.
    assert one["effective_lux_hours"] == pytest.approx(500.0 * tau["amber-glass"], rel=1e-3)
    assert tau["amber-glass"] == pytest.approx(0.21, abs=0.005)


def test_register_vial_and_reject_unknown_drug(served: Served) -> None:
    """POST /api/v1/vials registers a vial; an unknown drug is a 422 naming the known ones."""
    body = {
        "key": "roze-0100",
        "drug": "mecobalamin",
        "form": "rozebalamin-25mg",
        "lot": "L1",
        "location": "fridge-1",
        "packaging": "in-carton",
    }
    created = served.writer.post("/api/v1/vials", json=body)
    assert created.status_code == 201
    assert created.json()["potency_percent"] == 100.0
    bad = served.writer.post("/api/v1/vials", json={**body, "key": "x-1", "drug": "aspirin"})
    assert bad.status_code == 422
    problem = {"error": "invalid request", "detail": "unknown drug 'aspirin'; known: mecobalamin"}
    assert bad.json().items() >= problem.items()
    dup = served.writer.post("/api/v1/vials", json=body)
    assert dup.status_code == 422
    assert "already registered" in dup.json()["message"]


def test_alert_cursor_returns_only_changes_after_it(served: Served, catalog: Catalog) -> None:
    """Polling with the returned cursor yields each change once and then nothing."""
    first = served.client.get("/api/v1/alerts", params={"since": 0}).json()
    assert first == {"alerts": [], "cursor": 0, "has_more": False}
    feed_light(served, catalog, 600, 800.0)
    page = served.client.get("/api/v1/alerts", params={"since": 0}).json()
    rules = {a["rule"] for a in page["alerts"]}
    assert {"light-exposure", "potency-warning"} <= rules
    again = served.client.get("/api/v1/alerts", params={"since": page["cursor"]}).json()
    assert again == {"alerts": [], "cursor": page["cursor"], "has_more": False}
    critical = served.client.get("/api/v1/alerts", params={"since": 0, "severity": "critical"}).json()
    assert all(a["severity"] == "critical" for a in critical["alerts"])


def test_acknowledge_requires_both_fields_and_is_a_change(served: Served, catalog: Catalog) -> None:
    """Ack needs `by` and `comment`; it changes the state and advances the cursor."""
    feed_light(served, catalog, 120, 800.0)
    page = served.client.get("/api/v1/alerts").json()
    alert = next(a for a in page["alerts"] if a["rule"] == "light-exposure")
    missing = served.writer.post(f"/api/v1/alerts/{alert['id']}/ack", json={"by": "pharmacist"})
    assert missing.status_code == 422
    assert "body.comment: Field required" in missing.json()["message"]
    blank = served.writer.post(f"/api/v1/alerts/{alert['id']}/ack", json={"by": "a", "comment": "  "})
    assert blank.status_code == 422
    ok = served.writer.post(
        f"/api/v1/alerts/{alert['id']}/ack",
        json={"by": "pharmacist", "comment": "door closed, vials checked"},
    )
    assert ok.status_code == 200
    assert ok.json()["state"] == "acknowledged"
    after = served.client.get("/api/v1/alerts", params={"since": page["cursor"]}).json()
    assert [a["id"] for a in after["alerts"]] == [alert["id"]]
    detail = served.client.get(f"/api/v1/alerts/{alert['id']}").json()
    assert [e["kind"] for e in detail["events"]] == ["pending", "fired", "acknowledged"]


def test_a_second_acknowledgement_keeps_the_first_and_both_are_history(
    served: Served, catalog: Catalog
) -> None:
    """Re-acknowledging never overwrites who acknowledged first; every acknowledgement is an event."""
    feed_light(served, catalog, 120, 800.0)
    alert = next(
        a for a in served.client.get("/api/v1/alerts").json()["alerts"] if a["rule"] == "light-exposure"
    )
    first = served.writer.post(
        f"/api/v1/alerts/{alert['id']}/ack", json={"by": "ana", "comment": "door shut"}
    )
    assert first.status_code == 200, first.text
    served.clock.advance(60)
    second = served.writer.post(f"/api/v1/alerts/{alert['id']}/ack", json={"by": "ben", "comment": "checked"})
    assert second.status_code == 200, second.text
    assert (second.json()["acknowledged_by"], second.json()["acknowledgement_comment"]) == (
        "ana",
        "door shut",
    )
    assert second.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    detail = served.client.get(f"/api/v1/alerts/{alert['id']}").json()
    acks = [e["detail"] for e in detail["events"] if e["kind"] == "acknowledged"]
    assert acks == ["ana: door shut", "ben: checked"]


def test_unknown_ids_are_json_404(served: Served) -> None:
    """Missing vials and alerts answer 404 with a message naming the id."""
    for path in ("/api/v1/vials/999", "/api/v1/alerts/999"):
        r = served.client.get(path)
        assert r.status_code == 404
        assert "999" in r.json()["message"]
    r = served.client.get("/api/v1/alerts", params={"since": "soon"})
    assert r.status_code == 422
    assert "query.since" in r.json()["message"]


def test_locations_sensors_and_health(served: Served, catalog: Catalog) -> None:
    """Locations carry current lux, cumulative lux·h; sensors their last reading; healthz its state."""
    assert served.client.get("/healthz").json()["status"] == "degraded"  # no heartbeat yet
    feed_light(served, catalog, 100, 36.0)
    loc = served.client.get("/api/v1/locations").json()[0]
    assert loc["key"] == "fridge-1"
    assert loc["lux"] == 36.0
    assert loc["cumulative_lux_hours"] == pytest.approx(0.99)
    sensors = {s["key"]: s for s in served.client.get("/api/v1/sensors").json()}
    assert sensors["fridge-1-lux"]["last_value"] == 36.0
    assert sensors["fridge-1-lux"]["unit"] == "lx"
    assert served.client.get("/docs").status_code == 200


def test_etag_gives_304_until_something_changes(served: Served, catalog: Catalog) -> None:
    """The alert list carries an ETag; If-None-Match with it answers 304 with no body until a change."""
    first = served.client.get("/api/v1/alerts", params={"since": 0})
    etag = first.headers["etag"]
    again = served.client.get("/api/v1/alerts", params={"since": 0}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other_query = served.client.get(
        "/api/v1/alerts", params={"since": 0, "severity": "critical"}, headers={"If-None-Match": etag}
    )
    assert other_query.status_code == 200  # a different query is a different page
    feed_light(served, catalog, 120, 800.0)
    changed = served.client.get("/api/v1/alerts", params={"since": 0}, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["alerts"]
    assert changed.headers["etag"] != etag


def test_request_connections_keep_a_small_page_cache(served: Served) -> None:
    """Each pooled connection caps SQLite's page cache, so the API's memory does not grow with the file."""
    from api.startup import API_CACHE_KIB

    assert served.client.get("/api/v1/vials").status_code == 200  # the pool opens its first connection
    with served.stores.connection() as conn:
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == -API_CACHE_KIB
