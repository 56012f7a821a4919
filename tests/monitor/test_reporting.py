"""Report contents from a real store: a vial's exposure split at its events, a location's days."""

from __future__ import annotations

import pytest

from hardware.clock import ManualClock
from monitor import reporting
from monitor.config import Settings
from monitor.model.profiles import Catalog
from monitor.site_sync import sync_site
from monitor.store import Database, sites
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from tests.timeline import DURATION, EXPECTED_LUX_HOURS, feed_timeline


def test_vial_exposure_splits_at_a_packaging_change(
    settings: Settings, clock: ManualClock, catalog: Catalog
) -> None:
    """Boxed after the second opening, the infusion's history has two stretches whose doses add up."""
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    t0 = clock.wall()
    sync_site(conn, settings, t0)
    vial = vial_store.by_key(conn, "infusion-0001")
    assert vial is not None
    with transaction(conn):
        vial_store.add_event(
            conn,
            vial_id=vial.id,
            ts=t0 + 3000,
            kind="packaging-changed",
            location_id=None,
            packaging="in-carton",
            detail="put back in its box",
            recorded_ts=t0 + 3000,
        )
    feed_timeline(db, catalog, settings, t0)
    r = reporting.vial_report(conn, catalog, vial, settings.rules.thresholds(), now=t0 + DURATION)
    # Each stretch carries its state's τ_pkg, derived from the state's spectral filters (spectral_model.toml):
    # the bag's wall 0.88 (the form's rate is the bare solution's), the carton 0.014 (board is not opaque).
    taus = [catalog.packaging_state(k).tau.value for k in ("infusion-container", "in-carton")]
    assert [(x.packaging, x.tau) for x in r.exposure] == list(
        zip(["infusion-container", "in-carton"], taus, strict=True)
    )
    assert taus[0] == pytest.approx(0.879, abs=0.001)
    assert 0.0 < taus[1] < 0.02
    assert r.exposure[0].end == t0 + 3000
    assert sum(x.effective_lux_hours for x in r.exposure) == pytest.approx(
        r.assessment.potency.effective_lux_hours
    )
    assert r.exposure[1].location_lux_hours == pytest.approx(800 * 300 / 3600, rel=1e-2)
    assert [e.kind for e, _ in r.events] == ["registered", "packaging-changed"]
    conn.close()


def test_location_days_carry_min_max_dose_and_openings(
    settings: Settings, clock: ManualClock, catalog: Catalog
) -> None:
    """Two days give two rows; the day with data has its extremes, dose and openings; periods are checked."""
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    t0 = clock.wall()
    sync_site(conn, settings, t0)
    feed_timeline(db, catalog, settings, t0)
    loc = sites.location_by_key(conn, "fridge-1")
    r = reporting.location_report(conn, loc, t0 - 86_400, t0 + DURATION, 0.0, settings.rules.thresholds())
    assert [d.temperature_readings for d in r.days] == [0, DURATION // 10]
    today = r.days[1]
    assert (today.celsius_min, today.celsius_max, today.lux_max, today.door_openings) == (5.0, 10.0, 800.0, 3)
    assert today.lux_hours == pytest.approx(EXPECTED_LUX_HOURS, rel=1e-3)
    assert r.lux_hours == pytest.approx(EXPECTED_LUX_HOURS, rel=1e-3)
    with pytest.raises(ValueError, match="at most 366 days"):
        reporting.location_report(conn, loc, t0 - 400 * 86_400, t0, 0.0, settings.rules.thresholds())
    conn.close()
