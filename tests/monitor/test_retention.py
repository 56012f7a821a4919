"""Retention: old readings become one-minute aggregates; the ledger, the check and the potency stay exact."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from hardware.clock import ManualClock
from monitor import reporting
from monitor.batch import Batch, LightReading
from monitor.config import Settings
from monitor.exposure import vial_potency
from monitor.integrity import check_database
from monitor.model import dose_ranges
from monitor.model.profiles import Catalog
from monitor.store import model_inputs, readings, retention, sites
from monitor.store import vials as vial_store
from tests.monitor.simulated_history import BuiltHistory, build_history
from tests.monitor.test_engine import open_engine, run_simulation, with_scenario
from vialguard.cli import main

HOUR = 3600.0


def _light_on_and_doors(settings: Settings) -> Settings:
    s = with_scenario(
        settings, kind="light-stuck-on", start_after_seconds=900, duration_seconds=1200, lux=300
    )
    return s.model_copy(update={"simulation": s.simulation.model_copy(update={"openings_per_day": 300.0})})


@pytest.fixture(scope="module")
def two_hours_built(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> BuiltHistory:
    return build_history(tmp_path_factory.mktemp("two-hours"), catalog, 2 * HOUR, _light_on_and_doors)


@pytest.fixture
def two_hours(two_hours_built: BuiltHistory, settings: Settings, clock: ManualClock) -> sqlite3.Connection:
    """Two hours of the simulated fridge, a light left on for 20 min in the first, and door openings (run
    once for the module; each test changes a copy of its own)."""
    return two_hours_built.copy_for(settings, clock)


def _raw(conn: sqlite3.Connection, table: str, column: str) -> np.ndarray:
    return np.asarray(
        conn.execute(f"SELECT ts, {column} FROM {table} ORDER BY ts").fetchall(), dtype=np.float64
    )


def test_aggregates_keep_the_ledger_exact(two_hours: sqlite3.Connection, clock: ManualClock) -> None:
    """The first hour downsampled: the check passes, the ledger is unchanged at every minute's end."""
    conn = two_hours
    lux = sites.sensor_by_key(conn, "fridge-1-lux")
    before = _raw(conn, "light_readings", "lux, cum_lux_hours")
    cut = clock.wall() - HOUR
    replaced = retention.downsample(conn, cut)
    assert (
        replaced
        == int(np.count_nonzero(before[:, 0] < cut // 60 * 60))
        + conn.execute(
            "SELECT COALESCE(SUM(readings), 0) FROM minute_aggregates m JOIN sensors s ON s.id = m.sensor_id"
            " WHERE s.quantity = 'temperature'"
        ).fetchone()[0]
    )
    minutes = retention.aggregates(conn, lux.id)
    assert len(minutes) == 60
    assert check_database(conn).problems == []
    for minute in minutes:
        rows = before[(before[:, 0] >= minute.minute_ts) & (before[:, 0] < minute.minute_ts + 60)]
        assert minute.readings == len(rows)
        assert (minute.min_value, minute.max_value) == (rows[:, 1].min(), rows[:, 1].max())
        assert minute.mean_value == pytest.approx(rows[:, 1].mean())
        assert minute.cum_end == rows[-1, 2]  # bit for bit
        assert readings.cumulative_at(conn, lux, minute.last_ts) == rows[-1, 2]
    assert sum(m.dose for m in minutes) == pytest.approx(minutes[-1].cum_end)
    assert minutes[-1].cum_end > 50.0  # the light left on is inside the aggregated hour
    # The raw readings after the cut are untouched, and the ledger across the cut is exact.
    for ts in (cut + 0.5, cut + 600.0, clock.wall() - 1.0):
        kept = before[before[:, 0] <= ts][-1]
        assert readings.cumulative_at(conn, lux, float(kept[0])) == kept[2]


def test_downsampling_is_idempotent(two_hours: sqlite3.Connection, clock: ManualClock) -> None:
    """A second pass with the same cut finds nothing; a later cut continues the chain exactly."""
    conn = two_hours
    retention.downsample(conn, clock.wall() - HOUR)
    assert retention.downsample(conn, clock.wall() - HOUR) == 0
    assert retention.downsample(conn, clock.wall() - HOUR / 2) > 0
    assert check_database(conn).problems == []


def test_a_sensor_aggregated_whole_continues_its_ledger(
    two_hours: sqlite3.Connection, settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Every reading aggregated (a sensor silent past retention): the next readings continue the ledger."""
    conn = two_hours
    lux = sites.sensor_by_key(conn, "fridge-1-lux")
    total = readings.tail(conn, lux)
    assert total is not None
    retention.downsample(conn, clock.wall() + 60.0)
    assert conn.execute("SELECT COUNT(*) FROM light_readings").fetchone()[0] == 0
    _, engine = open_engine(settings, catalog, clock)
    t = clock.wall() + 60.0
    engine.ingest(Batch(light=[LightReading("fridge-1-lux", t + i, 3600.0) for i in range(3)]), t + 3)
    tail = readings.tail(conn, lux)
    assert tail is not None
    assert tail.cumulative == pytest.approx(total.cumulative + 2.0)  # 2 s at 3600 lx after a gap
    assert check_database(conn).problems == []


def test_potency_and_bounds_are_unchanged(
    two_hours: sqlite3.Connection, catalog: Catalog, clock: ManualClock
) -> None:
    """Every vial's potency (best, low, high) and the time without data are the same before and after."""
    conn = two_hours
    lux = sites.sensor_by_key(conn, "fridge-1-lux")
    start, end = clock.wall() - 2 * HOUR, clock.wall()
    vials = vial_store.list_all(conn)

    def snapshot() -> list[float]:
        out = []
        for vial in vials:
            p = vial_potency(conn, catalog, vial, now=end)
            out += [p.percent_range.best, p.percent_range.low, p.percent_range.high]
        return out

    def unseen_seconds() -> float:
        light = model_inputs.load_location(conn, lux.location_id, [start, end]).light
        assert light is not None
        return float(dose_ranges.unseen_seconds(light, np.array([start]), np.array([end]))[0])

    potency = snapshot()
    unseen = unseen_seconds()
    retention.downsample(conn, clock.wall() - HOUR)
    assert snapshot() == pytest.approx(potency, rel=1e-12)
    assert unseen_seconds() == unseen


def test_the_location_report_reads_the_aggregated_minutes(
    two_hours: sqlite3.Connection, settings: Settings, clock: ManualClock
) -> None:
    """A report over a period partly past retention: the same daily extremes, dose and MKT; the light left
    on and every door opening still found, their times to the minute."""
    conn = two_hours
    location = sites.location_by_key(conn, "fridge-1")
    rules = settings.rules.thresholds()
    start, end = clock.wall() - 2 * HOUR, clock.wall()

    def report() -> reporting.LocationReport:
        return reporting.location_report(conn, location, start, end, 0.0, rules)

    before = report()
    retention.downsample(conn, clock.wall() - HOUR)
    after = report()
    assert after.days == before.days
    assert after.lux_hours == pytest.approx(before.lux_hours, rel=1e-12)
    assert after.mean_kinetic_temperature_celsius == pytest.approx(before.mean_kinetic_temperature_celsius)
    lights = [[e.episode for e in r.excursions if e.kind == "light"] for r in (before, after)]
    assert len(lights[0]) == len(lights[1]) >= 1  # the light left on, inside the aggregated hour
    for was, now in zip(*lights, strict=True):
        assert was.start - 60.0 <= now.start <= was.start
        assert was.end <= now.end <= was.end + 60.0
    aggregated = [o for o in before.openings if o.end < clock.wall() - HOUR - 60.0]
    assert aggregated  # the light left on: the fixture runs outside opening hours
    for opening in aggregated:  # each is inside one found in the minutes (adjacent ones may merge)
        assert any(o.start <= opening.start and opening.end <= o.end + 1e-6 for o in after.openings)


def test_a_tampered_aggregate_is_found(two_hours: sqlite3.Connection, clock: ManualClock) -> None:
    """An aggregate whose dose no longer chains is a ledger problem naming the sensor."""
    conn = two_hours
    retention.downsample(conn, clock.wall() - HOUR)
    conn.execute(
        "UPDATE minute_aggregates SET dose = dose + 0.5 WHERE minute_ts = (SELECT MIN(minute_ts) + 600"
        " FROM minute_aggregates)"
    )
    problems = check_database(conn).problems
    assert problems
    assert any("fridge-1-lux" in p or "fridge-1-temp" in p for p in problems)


def test_the_command_downsamples_and_refuses_nonsense(
    settings: Settings, catalog: Catalog, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vialguard db downsample`: a bad period is refused by name; a valid one reports what it did."""
    run_simulation(settings, catalog, clock, 600.0).close()
    db = str(settings.db_path)
    assert main(["db", "downsample", "--db", db, "--older-than-days", "0"]) == 2
    assert "--older-than-days must be positive" in capsys.readouterr().err
    assert main(["db", "downsample", "--db", db, "--older-than-days", "3650"]) == 0
    assert "aggregated 0 readings" in capsys.readouterr().out
    assert main(["db", "downsample", "--db", db, "--older-than-days", "1"]) == 0  # the manual clock is older
    assert "aggregated 660 readings" in capsys.readouterr().out  # 600 lux and 60 temperature readings
    assert main(["db", "check", "--db", db]) == 0
