"""The dashboard's figures from a real store fed through the engine: openings, series, potency curve."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator

import pytest

from hardware.clock import ManualClock
from monitor import glance, series
from monitor.assessment import assess, thresholds_of
from monitor.config import Settings
from monitor.model.profiles import Catalog
from monitor.site_sync import sync_site
from monitor.store import Database, sites
from monitor.store import vials as vial_store
from tests.timeline import DOORS, DURATION, EXPECTED_LUX_HOURS, feed_timeline


@pytest.fixture
def conn(settings: Settings, clock: ManualClock, catalog: Catalog) -> Iterator[sqlite3.Connection]:
    db = Database(settings.db_path)
    db.initialise()
    c = db.connect()
    sync_site(c, settings, clock.wall())
    feed_timeline(db, catalog, settings, clock.wall())
    yield c
    c.close()


def test_door_openings_are_the_light_episodes_of_the_day(
    conn: sqlite3.Connection, clock: ManualClock
) -> None:
    """Three openings, the longest 300 s; the light is off at the end; nothing before day start counts."""
    t0 = clock.wall()
    loc = sites.location_by_key(conn, "fridge-1")
    g = glance.location_glance(conn, loc, now=t0 + DURATION, day_start=t0, light_lux=10.0)
    assert [(e.start - t0, e.seconds) for e in g.openings] == [(s, float(n)) for s, n, _ in DOORS]
    assert g.longest_opening_seconds == 300.0
    assert g.light_on is False
    later = glance.location_glance(conn, loc, now=t0 + DURATION, day_start=t0 + 2000, light_lux=10.0)
    assert len(later.openings) == 1


def test_light_series_keeps_short_openings_and_the_window_dose(
    conn: sqlite3.Connection, clock: ManualClock
) -> None:
    """Ten-minute buckets still show a 30 s opening at its lux; the window dose matches the ledger."""
    t0 = clock.wall()
    s = series.location_series(conn, sites.location_by_key(conn, "fridge-1"), t0, t0 + DURATION, 12)
    assert s.bucket_seconds == 600.0
    assert [p.lux_max for p in s.light][:2] == [0.0, 500.0]
    assert s.window_lux_hours == pytest.approx(EXPECTED_LUX_HOURS, rel=1e-3)
    assert s.light[-1].window_lux_hours == pytest.approx(EXPECTED_LUX_HOURS, rel=1e-3)
    assert max(p.celsius_max for p in s.temperature) == 10.0
    with pytest.raises(ValueError, match="end after start"):
        series.location_series(conn, sites.location_by_key(conn, "fridge-1"), t0, t0, 12)


def test_potency_curve_starts_at_label_and_ends_at_the_estimate(
    conn: sqlite3.Connection, catalog: Catalog, settings: Settings, clock: ManualClock
) -> None:
    """The infusion's curve runs from 100 % at registration down to its present estimate, never rising."""
    vial = vial_store.by_key(conn, "infusion-0001")
    assert vial is not None
    curve = series.potency_curve(conn, catalog, vial, 40)
    assert curve[0].percent == 100.0
    now = assess(conn, catalog, vial, thresholds_of(settings.rules.thresholds()), now=clock.wall() + DURATION)
    assert curve[-1].percent == pytest.approx(now.potency.percent)
    assert all(b.percent <= a.percent for a, b in itertools.pairwise(curve))
    assert (now.verdict.verdict, now.verdict.hours_left) == ("do-not-use", 0.0)


def test_vial_in_the_dark_has_only_thermal_loss_ahead(
    conn: sqlite3.Connection, catalog: Catalog, settings: Settings, clock: ManualClock
) -> None:
    """With the light off, a vial in use has time left from the slow thermal term: years, not hours."""
    vial = vial_store.by_key(conn, "roze-0002")
    assert vial is not None
    v = assess(conn, catalog, vial, thresholds_of(settings.rules.thresholds()), now=clock.wall() + DURATION)
    assert v.verdict.verdict == "use"
    assert v.verdict.hours_left is not None
    assert v.verdict.hours_left > 24 * 365
    assert v.verdict.time_left_text() == "more than a year at present conditions"
