"""Bridge runs: a clean stop leaves a marker; an unclean end is found at the next start, alerted, a gap."""

from __future__ import annotations

import sqlite3

import pytest

from hardware.clock import ManualClock
from monitor.batch import Batch, LightReading
from monitor.config import Settings
from monitor.engine import Engine
from monitor.integrity import check_database
from monitor.model import ledger
from monitor.model.profiles import Catalog
from monitor.outages import UNCLEAN_SHUTDOWN_RULE, iso, start_run, stop_run
from monitor.store import alerts, readings, runs, sites
from tests.monitor.test_engine import open_engine, simulated_loop


def run_for(
    conn: sqlite3.Connection, engine: Engine, settings: Settings, clock: ManualClock, seconds: int
) -> None:
    """The real acquisition loop on the simulated fridge, flushing every 10 s of clock time."""
    loop = simulated_loop(settings, clock, engine, 10.0)
    for _ in range(seconds):
        loop.poll_once()
        if loop.due_for_flush():
            loop.flush()
        clock.advance(1.0)


def lit(settings: Settings) -> Settings:
    """The fridge light stuck on at 3600 lx: every second adds 1 lux·h, so a bridged outage would show."""
    from tests.monitor.test_engine import with_scenario

    return with_scenario(
        settings, kind="light-stuck-on", start_after_seconds=0, duration_seconds=86400, lux=3600
    )


def test_first_start_has_no_outage(settings: Settings, catalog: Catalog, clock: ManualClock) -> None:
    """A new database: a run is recorded, nothing is alerted."""
    conn, engine = open_engine(settings, catalog, clock)
    run_id, outage = start_run(conn, engine, 123, clock.wall())
    assert outage is None
    assert runs.last(conn) == runs.BridgeRun(run_id, 123, clock.wall(), None)
    assert alerts.open_alerts(conn) == {}


def test_unclean_end_is_alerted_with_its_interval_and_is_a_gap(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Killed after a commit: the next start alerts the outage (ISO interval); the ledger skips it."""
    settings = lit(settings)
    conn, engine = open_engine(settings, catalog, clock)
    start_run(conn, engine, 1, clock.wall())
    run_for(conn, engine, settings, clock, 95)  # last flush at 90 s: 5 s of readings die with the process
    sensor = sites.sensor_by_key(conn, "fridge-1-lux")
    before = readings.tail(conn, sensor)
    assert before is not None
    conn.close()

    clock.advance(600.0)  # ten minutes down
    conn, engine = open_engine(settings, catalog, clock)
    _, outage = start_run(conn, engine, 2, clock.wall())
    assert outage is not None
    assert not outage.clean
    assert outage.end_ts == clock.wall()
    assert outage.start_ts == pytest.approx(before.ts, abs=1.0)  # the last committed batch
    (alert,) = [a for a in alerts.open_alerts(conn).values() if a.rule == UNCLEAN_SHUTDOWN_RULE]
    assert alert.severity == "warning"
    assert alert.alert_class == "system"
    assert alert.location_id is None
    assert iso(outage.start_ts) in alert.message
    assert iso(outage.end_ts) in alert.message
    assert "gap" in alert.message
    (event,) = runs.events(conn, UNCLEAN_SHUTDOWN_RULE)
    assert event.detail == alert.message

    run_for(conn, engine, settings, clock, 30)
    (gap,) = conn.execute(
        "SELECT start_ts, end_ts FROM gaps WHERE sensor_id = ? AND reason = 'unclean shutdown'", (sensor.id,)
    ).fetchall()
    assert gap[0] == before.ts
    assert gap[1] > clock.wall() - 31
    first_after = conn.execute(
        "SELECT cum_lux_hours FROM light_readings WHERE sensor_id = ? AND ts = ?", (sensor.id, gap[1])
    ).fetchone()[0]
    assert first_after == pytest.approx(before.cumulative)  # nothing added across the outage
    assert check_database(conn).problems == []


def test_clean_stop_is_not_alerted_but_still_breaks_the_series(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A graceful stop marks the run clean: no alert at the next start; the downtime is a gap all the same."""
    settings = lit(settings)
    conn, engine = open_engine(settings, catalog, clock)
    run_id, _ = start_run(conn, engine, 1, clock.wall())
    run_for(conn, engine, settings, clock, 20)
    stop_run(conn, run_id, clock.wall())
    assert runs.last(conn).stopped_ts == clock.wall()  # type: ignore[union-attr]
    conn.close()

    clock.advance(2.0)  # shorter than max_gap_seconds: without the break the ledger would bridge it
    conn, engine = open_engine(settings, catalog, clock)
    _, outage = start_run(conn, engine, 2, clock.wall())
    assert outage is not None
    assert outage.clean
    assert all(a.rule != UNCLEAN_SHUTDOWN_RULE for a in alerts.changed_since(conn, 0))
    run_for(conn, engine, settings, clock, 10)
    reasons = [r for (r,) in conn.execute("SELECT reason FROM gaps")]
    assert reasons.count("bridge stopped") == 2  # one per sensor
    assert check_database(conn).problems == []


def test_a_break_holds_through_a_failed_batch(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A batch after an outage that the database refuses is retried with the outage still unbridged."""
    from monitor.errors import StoreError
    from monitor.store import Database

    conn, engine = open_engine(settings, catalog, clock)
    t0 = clock.wall()
    engine.ingest(Batch(light=[LightReading("fridge-1-lux", t0 + i, 3600.0) for i in range(3)]), t0 + 3)
    engine.break_series(t0 + 4, "unclean shutdown")
    batch = Batch(light=[LightReading("fridge-1-lux", t0 + 4 + i, 3600.0) for i in range(3)])
    blocker = Database(settings.db_path).connect()
    blocker.execute("PRAGMA busy_timeout = 0")
    blocker.execute("BEGIN IMMEDIATE")
    conn.execute("PRAGMA busy_timeout = 0")
    with pytest.raises(StoreError):
        engine.ingest(batch, t0 + 7)
    blocker.execute("ROLLBACK")
    engine.ingest(batch, t0 + 7)
    light = sites.sensor_by_key(conn, "fridge-1-lux").id
    assert conn.execute(
        "SELECT start_ts, end_ts, reason FROM gaps WHERE sensor_id = ?", (light,)
    ).fetchall() == [(t0 + 2, t0 + 4, "unclean shutdown")]
    tail = readings.tail(conn, sites.sensor_by_key(conn, "fridge-1-lux"))
    assert tail is not None
    assert tail.cumulative == pytest.approx(4.0)  # 2 s before the break and 2 s after, 1 lux·h each
    assert check_database(conn).problems == []


def test_an_outage_recorded_by_a_run_that_died_at_once_still_breaks(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A run killed after recording the outage but before any reading: the next engine still skips it."""
    conn, engine = open_engine(settings, catalog, clock)
    t0 = clock.wall()
    engine.ingest(Batch(light=[LightReading("fridge-1-lux", t0 + i, 3600.0) for i in range(3)]), t0 + 3)
    engine.break_series(t0 + 3, "unclean shutdown")  # then killed
    conn.close()
    conn, engine = open_engine(settings, catalog, clock)
    engine.ingest(Batch(light=[LightReading("fridge-1-lux", t0 + 4 + i, 3600.0) for i in range(3)]), t0 + 7)
    tail = readings.tail(conn, sites.sensor_by_key(conn, "fridge-1-lux"))
    assert tail is not None
    assert tail.cumulative == pytest.approx(4.0)
    assert check_database(conn).problems == []


@pytest.mark.parametrize(
    ("ts", "before", "after", "expected"),
    [
        (10.5, (10.0, 3600.0, 5.0), (11.0, 3600.0, 5.0), 5.0),
        (11.0, (10.0, 3600.0, 5.0), (11.0, 3600.0, 5.0), 5.0),
        (9.0, (8.0, 3600.0, 3.0), (10.0, 3600.0, 5.0), 4.0),
    ],
    ids=["inside-break", "at-the-sample-after-a-break", "ordinary-interval"],
)
def test_value_at_adds_nothing_across_a_break(
    ts: float, before: tuple[float, float, float], after: tuple[float, float, float], expected: float
) -> None:
    """Interpolating inside a recorded break (shorter than max_gap) never passes the later sample's value."""
    assert ledger.value_at(ts, before, after, 5.0) == pytest.approx(expected)
