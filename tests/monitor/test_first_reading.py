"""Potency alerts wait for the location's first reading: no critical alert that the first data resolves."""

from __future__ import annotations

import sqlite3

from hardware.clock import ManualClock
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings
from monitor.model.profiles import Catalog
from monitor.store import alerts
from tests.monitor.test_engine import open_engine


def _potency_alerts(conn: sqlite3.Connection) -> list[str]:
    return sorted(a.rule for a in alerts.open_alerts(conn).values() if a.rule.startswith("potency"))


def test_no_potency_alert_before_the_locations_first_reading(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Batches with no reading yet (a serial board not connected): no potency alert, pending or firing."""
    conn, engine = open_engine(settings, catalog, clock)
    for _ in range(5):
        clock.advance(60)
        engine.ingest(Batch(), clock.wall())
    assert _potency_alerts(conn) == []
    assert all(a.rule != "potency-critical" for a in alerts.changed_since(conn, 0))
    conn.close()


def test_after_the_first_reading_the_potency_rules_run(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Once readings arrive the rules apply: a dark, cool fridge keeps the vials above their thresholds."""
    conn, engine = open_engine(settings, catalog, clock)
    clock.advance(60)
    engine.ingest(Batch(), clock.wall())
    start = clock.wall()
    for i in range(1, 61):
        clock.advance(1)
        batch = Batch(
            light=[LightReading("fridge-1-lux", start + i, 0.0)],
            temperature=[TemperatureReading("fridge-1-temp", start + i, 5.0)],
        )
        engine.ingest(batch, clock.wall())
    assert _potency_alerts(conn) == []
    assert engine.last_reading_ts == start + 60
    conn.close()
