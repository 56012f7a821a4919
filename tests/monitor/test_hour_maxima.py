"""Each light sensor's highest lux per clock hour, kept at ingest: what bounds the light a sensor did not see.

The bound used to scan every reading from a segment's start (a month of 1 Hz readings per vial and per
curve point); it now reads one row per hour, which must hold the highest lux of that hour whatever path
the readings took: ingest, late readings, a database migrated from before the table, retention.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from hardware.clock import ManualClock
from monitor.batch import Batch, LightReading
from monitor.config import Settings
from monitor.model.profiles import Catalog
from monitor.store import Database, readings, retention, sites
from monitor.store.schema import MIGRATIONS, SCHEMA_VERSION, _statements
from monitor.store.spectral import SPECTRUM_COLUMNS
from tests.monitor.simulated_history import BuiltHistory, build_history
from tests.monitor.test_engine import open_engine, with_scenario

HOUR = 3600.0


def _recomputed(conn: sqlite3.Connection) -> dict[tuple[int, float], float]:
    """Each light sensor's highest lux per clock hour, from the readings and the aggregated minutes."""
    out: dict[tuple[int, float], float] = {}
    rows = conn.execute(
        "SELECT sensor_id, ts, lux FROM light_readings UNION ALL SELECT m.sensor_id, m.minute_ts, m.max_value"
        " FROM minute_aggregates m JOIN sensors s ON s.id = m.sensor_id WHERE s.quantity = 'light'"
    ).fetchall()
    for sensor_id, ts, lux in rows:
        key = (int(sensor_id), readings.hour_of(float(ts)))
        out[key] = max(out.get(key, -math.inf), float(lux))
    return out


def _kept(conn: sqlite3.Connection) -> dict[tuple[int, float], float]:
    rows = conn.execute("SELECT sensor_id, hour_ts, max_lux FROM light_hour_maxima").fetchall()
    return {(int(s), float(h)): float(m) for s, h, m in rows}


def _light_on_and_doors(settings: Settings) -> Settings:
    s = with_scenario(
        settings, kind="light-stuck-on", start_after_seconds=900, duration_seconds=1200, lux=300
    )
    return s.model_copy(update={"simulation": s.simulation.model_copy(update={"openings_per_day": 300.0})})


@pytest.fixture(scope="module")
def three_hours_built(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> BuiltHistory:
    return build_history(tmp_path_factory.mktemp("three-hours"), catalog, 3 * HOUR, _light_on_and_doors)


@pytest.fixture
def three_hours(
    three_hours_built: BuiltHistory, settings: Settings, clock: ManualClock
) -> sqlite3.Connection:
    """Three hours of the simulated fridge with its light left on for 20 minutes and many door openings
    (run once for the module; each test changes a copy of its own)."""
    return three_hours_built.copy_for(settings, clock)


def test_ingest_keeps_each_hours_highest_lux(three_hours: sqlite3.Connection) -> None:
    """After three simulated hours, one row per sensor and hour, each the hour's highest reading."""
    kept = _kept(three_hours)
    assert kept == _recomputed(three_hours)
    assert 3 <= len(kept) <= 4
    assert max(kept.values()) >= 300.0


def test_late_readings_raise_their_hours_maximum(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A reading arriving late, in an hour already past, raises that hour's maximum; lower ones do not."""
    conn, engine = open_engine(settings, catalog, clock)
    t0 = math.floor(clock.wall() / HOUR) * HOUR + HOUR
    engine.ingest(
        Batch(light=[LightReading("fridge-1-lux", t0 + s, 5.0) for s in range(0, 7200, 1)]), t0 + 7200
    )
    sensor = sites.sensor_by_key(conn, "fridge-1-lux")
    assert readings.highest_lux(conn, sensor, t0, t0 + 60) == 5.0
    late = [LightReading("fridge-1-lux", t0 + 10.5, 900.0), LightReading("fridge-1-lux", t0 + 3700.5, 1.0)]
    engine.ingest(Batch(light=late), t0 + 7300)
    assert _kept(conn) == _recomputed(conn)
    assert readings.highest_lux(conn, sensor, t0 + 3000, t0 + 3100) == 900.0  # the same clock hour
    assert readings.highest_lux(conn, sensor, t0 + 3600, t0 + 7000) == 5.0
    assert readings.highest_lux(conn, sensor, t0 + 8000, t0 + 9000) is None
    conn.close()


def test_retention_keeps_the_hours(three_hours: sqlite3.Connection, clock: ManualClock) -> None:
    """Readings aggregated into minutes past retention leave every hour's maximum as it was."""
    before = _kept(three_hours)
    retention.downsample(three_hours, clock.wall() - HOUR)
    assert _kept(three_hours) == before == _recomputed(three_hours)


def test_a_database_from_before_the_table_is_filled_by_its_migration(
    three_hours: sqlite3.Connection, settings: Settings, tmp_path: Path, clock: ManualClock
) -> None:
    """Migrating a database whose readings predate the table fills it from the readings and the minutes."""
    retention.downsample(three_hours, clock.wall() - 2 * HOUR)
    expected = _recomputed(three_hours)
    index = next(i for i, m in enumerate(MIGRATIONS) if "CREATE TABLE light_hour_maxima" in m)
    three_hours.execute("DROP TABLE light_hour_maxima")
    for later in (
        "vial_handovers",
        "simulated_clock",
        "real_clock_high_water",
        "uplink_state",
        "uplink_outbox",
        "site_model_settings",
        "fleet_commands",
    ):
        three_hours.execute(f"DROP TABLE {later}")  # what the migrations after it create
    three_hours.execute("DROP INDEX minute_aggregates_saturated")
    uplink_triggers = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_to_uplink'"
    for (trigger,) in three_hours.execute(uplink_triggers).fetchall():
        three_hours.execute(f"DROP TRIGGER {trigger}")
    for column in SPECTRUM_COLUMNS:  # migration 21's
        three_hours.execute(f"ALTER TABLE spectral_readings DROP COLUMN {column}")
    three_hours.execute(f"PRAGMA user_version = {index}")
    three_hours.commit()
    three_hours.close()
    Database(settings.db_path).initialise()
    conn = Database(settings.db_path).connect()
    assert _kept(conn) == expected
    assert int(conn.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION
    assert len(_statements(MIGRATIONS[index])) == 2
    conn.close()
