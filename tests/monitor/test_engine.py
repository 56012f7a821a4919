"""The engine over a real SQLite file, driven by an injected clock: ledger, alerts, statuses, retries."""

from __future__ import annotations

import math
import sqlite3
import threading
from typing import Any

import pytest

from firmware_bridge.acquisition import AcquisitionLoop, AcquisitionSettings, SampleTime
from firmware_bridge.sensors import build_fridge, build_simulated_sensors
from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading, SensorFault
from monitor.config import ScenarioConfig, Settings
from monitor.engine import Engine
from monitor.exposure import vial_potency
from monitor.model.place_rates import JointRates
from monitor.model.profiles import Catalog
from monitor.site_sync import sync_site
from monitor.store import Database, alerts, readings, sites
from monitor.store import vials as vial_store


def open_engine(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> tuple[sqlite3.Connection, Engine]:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, clock.wall())
    return conn, Engine(conn, catalog, default_rules(settings.rules.thresholds()))


def simulated_loop(
    settings: Settings,
    clock: ManualClock,
    engine: Engine,
    batch_seconds: float,
    *,
    commit_seconds: float | None = None,
    hold_unsynchronised_seconds: float = 300.0,
    stamp_at_due_time: bool = True,
    **parts: Any,
) -> AcquisitionLoop:
    """The real acquisition loop on a fresh simulated fridge, on ``clock``; ``parts`` (a spool, a time
    source) go to the loop."""
    sample_time = SampleTime()
    fridge = build_fridge(settings.simulation, clock.wall())
    return AcquisitionLoop(
        build_simulated_sensors(settings, fridge, sample_time)[0],
        clock,
        engine,
        AcquisitionSettings(
            batch_seconds, commit_seconds, hold_unsynchronised_seconds, stamp_at_due_time=stamp_at_due_time
        ),
        sample_time=sample_time,
        real_monotonic=clock.monotonic,
        **parts,
    )


def run_simulation(
    settings: Settings, catalog: Catalog, clock: ManualClock, seconds: float
) -> sqlite3.Connection:
    """Run the real acquisition loop on the simulated fridge for ``seconds`` of manual-clock time."""
    conn, engine = open_engine(settings, catalog, clock)
    loop = simulated_loop(settings, clock, engine, 120.0)
    end = clock.monotonic() + seconds
    while clock.monotonic() < end:
        loop.poll_once()
        if loop.due_for_flush():
            loop.flush()
        clock.advance(1.0)
    loop.flush()
    return conn


def with_scenario(settings: Settings, **kw: object) -> Settings:
    sim = settings.simulation.model_copy(
        update={
            "scenarios": [ScenarioConfig.model_validate(kw)],
            "openings_per_day": 0.0,
        }
    )
    return settings.model_copy(update={"simulation": sim})


def test_door_left_open_fires_light_then_potency_alerts(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A door left open lights the vials: the light alert after 60 s, then the dilute infusion's potency."""
    s = with_scenario(
        settings, kind="door-left-open", start_after_seconds=300, duration_seconds=3600, lux=600
    )
    conn = run_simulation(s, catalog, clock, 1800)
    fired = {a.rule: a for a in alerts.changed_since(conn, 0)}
    light = fired["light-exposure"]
    assert light.fired_ts - light.started_ts == pytest.approx(60.0, abs=1.0)
    assert light.started_ts - clock.wall() + 1800 == pytest.approx(300.0, abs=1.0)
    assert fired["potency-warning"].vial_id == vial_store.by_key(conn, "infusion-0001").id  # type: ignore[union-attr]
    carton = vial_store.by_key(conn, "roze-0001")
    assert carton is not None
    # 25 min of 600 lx reached the fridge (250 lx·h); the carton passes 1.4 % of what the drug absorbs
    # (board is not opaque: spectral_model.toml, J Food Prot 1983), so Rozebalamin loses about 0.01 %,
    # at the joint rate of its form in its carton under the fridge's lamp (monitor.model.place_rates).
    p = vial_potency(conn, catalog, carton)
    assert p.lamp is not None
    rate = JointRates(catalog).get("mecobalamin", "rozebalamin-25mg", p.lamp, "in-carton")
    assert rate is not None
    expected = 100.0 * math.exp(-rate.best * 250.0)
    assert p.percent == pytest.approx(expected, abs=1e-3)
    assert expected < 100.0 - 5e-3


def test_ledger_matches_door_dose(settings: Settings, catalog: Catalog, clock: ManualClock) -> None:
    """25 min of 600 lx (±1 % noise) is 250 lx·h in the ledger, and darkness adds nothing."""
    s = with_scenario(
        settings, kind="light-stuck-on", start_after_seconds=600, duration_seconds=1500, lux=600
    )
    conn = run_simulation(s, catalog, clock, 3600)
    sensor = sites.sensor_by_key(conn, "fridge-1-lux")
    tail = readings.tail(conn, sensor)
    assert tail is not None
    assert tail.cumulative == pytest.approx(250.0, rel=0.01)
    assert readings.count(conn, sensor) == 3600


def test_one_continuing_condition_keeps_one_alert(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Light held for an hour across many batches is one alert, never a duplicate."""
    s = with_scenario(settings, kind="light-stuck-on", start_after_seconds=0, duration_seconds=3600, lux=400)
    conn = run_simulation(s, catalog, clock, 3000)
    light_alerts = [a for a in alerts.changed_since(conn, 0) if a.rule == "light-exposure"]
    assert len(light_alerts) == 1
    assert light_alerts[0].state == "firing"


def test_sensor_dropout_marks_fault_and_stale_then_recovers(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A dropped-out sensor is faulty with an alert, the other keeps flowing, and it recovers after."""
    s = with_scenario(
        settings, kind="sensor-dropout", start_after_seconds=100, duration_seconds=300, sensor="fridge-1-lux"
    )
    conn = run_simulation(s, catalog, clock, 250)
    lux = sites.sensor_by_key(conn, "fridge-1-lux")
    assert lux.status == "faulty"
    rules = {a.rule for a in alerts.open_alerts(conn).values()}
    assert {"sensor-fault", "sensor-stale"} <= rules
    temp = sites.sensor_by_key(conn, "fridge-1-temp")
    assert readings.count(conn, temp) == 25


def test_gap_in_data_is_recorded(settings: Settings, catalog: Catalog, clock: ManualClock) -> None:
    """Readings resuming after a silence leave a gap row covering the silence."""
    conn, engine = open_engine(settings, catalog, clock)
    t0 = clock.wall()
    engine.ingest(Batch(light=[LightReading("fridge-1-lux", t0 + i, 0.0) for i in range(3)]), t0 + 3)
    engine.ingest(Batch(light=[LightReading("fridge-1-lux", t0 + 60 + i, 0.0) for i in range(3)]), t0 + 63)
    rows = conn.execute("SELECT start_ts, end_ts FROM gaps").fetchall()
    assert rows == [(t0 + 2, t0 + 60)]


def test_failed_commit_keeps_batch_and_ledger_consistent(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A batch the database refuses is rolled back whole and stores correctly on retry."""
    from monitor.errors import StoreError

    conn, engine = open_engine(settings, catalog, clock)
    t0 = clock.wall()
    batch = Batch(light=[LightReading("fridge-1-lux", t0 + i, 3600.0) for i in range(5)])
    blocker = Database(settings.db_path).connect()
    blocker.execute("PRAGMA busy_timeout = 0")
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    conn.execute("PRAGMA busy_timeout = 0")
    with pytest.raises(StoreError, match="could not store a batch of 5 readings"):
        engine.ingest(batch, t0 + 5)
    blocker.execute("ROLLBACK")
    engine.ingest(batch, t0 + 5)
    tail = readings.tail(conn, sites.sensor_by_key(conn, "fridge-1-lux"))
    assert tail is not None
    assert tail.cumulative == pytest.approx(4.0)


def test_fault_edges_are_recorded_once(settings: Settings, catalog: Catalog, clock: ManualClock) -> None:
    """Repeated identical faults record one fault row; a good reading returns the sensor to ok."""
    conn, engine = open_engine(settings, catalog, clock)
    t0 = clock.wall()
    for i in range(5):
        engine.ingest(Batch(faults=[SensorFault("fridge-1-temp", t0 + i, "unavailable", "EIO")]), t0 + i)
    assert conn.execute("SELECT COUNT(*) FROM sensor_faults").fetchone()[0] == 1
    assert sites.sensor_by_key(conn, "fridge-1-temp").status == "faulty"
    from monitor.batch import TemperatureReading

    engine.ingest(Batch(temperature=[TemperatureReading("fridge-1-temp", t0 + 10, 4.0)]), t0 + 10)
    assert sites.sensor_by_key(conn, "fridge-1-temp").status == "ok"


def test_loop_stops_on_event_and_flushes(settings: Settings, catalog: Catalog, clock: ManualClock) -> None:
    """run() returns once stop is set, with the last samples flushed to the store."""
    conn, engine = open_engine(settings, catalog, clock)
    loop = simulated_loop(settings, clock, engine, 1e9)
    stop = threading.Event()
    original_sleep = clock.sleep

    def sleep_then_stop(seconds: float) -> None:
        original_sleep(seconds)
        if clock.monotonic() >= 30:
            stop.set()

    clock.sleep = sleep_then_stop  # type: ignore[method-assign]
    loop.run(stop)
    assert readings.count(conn, sites.sensor_by_key(conn, "fridge-1-lux")) >= 30
