"""Each sensor fault path end to end: genuine driver, emulated chip, the real loop, engine and SQLite.

A fault becomes a sensor status and a sensor-fault alert, the other sensor keeps flowing, and clearing the
fault brings the sensor back and resolves the alert.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date

import pytest

from firmware_bridge.acquisition import AcquisitionLoop, AcquisitionSettings, SampleTime
from firmware_bridge.sensors import EmulatedBuses, build_fridge, build_simulated_sensors
from hardware.chips.mcp9808 import Mcp9808Chip
from hardware.chips.tsl2591 import Tsl2591Chip
from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.config import ScenarioConfig, Settings
from monitor.engine import Engine
from monitor.model.profiles import Catalog
from monitor.site_sync import sync_site
from monitor.store import Database, alerts, readings, sites


class Site:
    """The simulated site on a manual clock, stepped second by second."""

    def __init__(self, settings: Settings, catalog: Catalog, clock: ManualClock) -> None:
        sim = settings.simulation.model_copy(
            update={
                "openings_per_day": 0.0,
                "scenarios": [
                    ScenarioConfig(
                        kind="light-stuck-on", start_after_seconds=0, duration_seconds=1e6, lux=400.0
                    )
                ],
            }
        )
        settings = settings.model_copy(update={"simulation": sim})
        db = Database(settings.db_path)
        db.initialise()
        self.conn = db.connect()
        sync_site(self.conn, settings, clock.wall())
        sample_time = SampleTime()
        sensors, self.buses = build_simulated_sensors(settings, build_fridge(sim, clock.wall()), sample_time)
        engine = Engine(self.conn, catalog, default_rules(settings.rules.thresholds()))
        self.loop = AcquisitionLoop(
            sensors,
            clock,
            engine,
            AcquisitionSettings(batch_seconds=10.0, stamp_at_due_time=True),
            sample_time=sample_time,
            real_monotonic=clock.monotonic,
        )
        self.clock = clock

    def run(self, seconds: int) -> None:
        for _ in range(seconds):
            self.loop.poll_once()
            if self.loop.due_for_flush():
                self.loop.flush()
            self.clock.advance(1.0)
        self.loop.flush()

    def sensor(self, key: str) -> sites.SensorRecord:
        return sites.sensor_by_key(self.conn, key)

    def open_rules(self, key: str) -> set[str]:
        sensor_id = self.sensor(key).id
        return {a.rule for a in alerts.open_alerts(self.conn).values() if a.sensor_id == sensor_id}


def _eio(b: EmulatedBuses) -> Callable[[], None]:
    b.i2c[1].inject(0x29, "eio")
    return lambda: b.i2c[1].clear(0x29)


def _hang(b: EmulatedBuses) -> Callable[[], None]:
    b.i2c[1].inject(0x29, "hang")
    return lambda: b.i2c[1].clear(0x29)


def _frozen(b: EmulatedBuses) -> Callable[[], None]:
    chip = b.i2c[1].chip(0x29)
    assert isinstance(chip, Tsl2591Chip)
    chip.frozen_counts = (5000, 400)

    def clear() -> None:
        chip.frozen_counts = None

    return clear


def _out_of_range(b: EmulatedBuses) -> Callable[[], None]:
    chip = b.i2c[1].chip(0x18)
    assert isinstance(chip, Mcp9808Chip)
    chip.celsius_override = 200.0

    def clear() -> None:
        chip.celsius_override = None

    return clear


@pytest.mark.parametrize(
    ("inject", "faulty", "other", "kind"),
    [
        (_eio, "fridge-1-lux", "fridge-1-temp", "unavailable"),
        (_hang, "fridge-1-lux", "fridge-1-temp", "unavailable"),
        (_frozen, "fridge-1-lux", "fridge-1-temp", "frozen"),
        (_out_of_range, "fridge-1-temp", "fridge-1-lux", "out-of-range"),
    ],
    ids=["eio", "hung-bus", "frozen", "out-of-range"],
)
def test_fault_becomes_status_and_alert_then_recovers(
    settings: Settings,
    catalog: Catalog,
    clock: ManualClock,
    inject: Callable[[EmulatedBuses], Callable[[], None]],
    faulty: str,
    other: str,
    kind: str,
) -> None:
    """A fault mid-run: status faulty, a sensor-fault alert, the other sensor flows; cleared, it recovers."""
    site = Site(settings, catalog, clock)
    site.run(60)
    before = readings.count(site.conn, site.sensor(other))
    clear = inject(site.buses)
    site.run(120)
    assert site.sensor(faulty).status == "faulty"
    assert "sensor-fault" in site.open_rules(faulty)
    kinds = [
        r[0]
        for r in site.conn.execute(
            "SELECT kind FROM sensor_faults WHERE sensor_id = ?", (site.sensor(faulty).id,)
        )
    ]
    assert kinds == [kind]  # recorded once, on the edge
    assert readings.count(site.conn, site.sensor(other)) > before  # the other sensor kept flowing
    clear()
    site.run(180)
    assert site.sensor(faulty).status == "ok"
    assert "sensor-fault" not in site.open_rules(faulty)


def test_chip_absent_at_start_is_retried_until_it_answers(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A chip that is not there at start is a faulty sensor, not a crash; plugged in, it starts reading."""
    site = Site(settings, catalog, clock)
    site.buses.i2c[1].inject(0x29, "absent")
    site.run(60)
    lux = site.sensor("fridge-1-lux")
    assert lux.status == "faulty"
    assert "not found" in lux.status_detail
    assert readings.count(site.conn, lux) == 0
    site.buses.i2c[1].clear(0x29)
    site.run(120)
    assert site.sensor("fridge-1-lux").status == "ok"
    assert readings.count(site.conn, site.sensor("fridge-1-lux")) > 0


@pytest.mark.parametrize(
    ("due", "fires"), [(date(2025, 1, 31), True), (date(2030, 1, 31), False)], ids=["overdue", "in-date"]
)
def test_calibration_overdue_is_an_alert(
    settings: Settings, catalog: Catalog, clock: ManualClock, due: date, fires: bool
) -> None:
    """A sensor whose calibration due date has passed raises calibration-overdue; one in date does not."""
    sensors = [
        s.model_copy(
            update={
                "calibration": s.calibration.model_copy(
                    update={"due_on": due, "certificate_id": "CAL-1", "expanded_uncertainty": 0.1}
                )
            }
        )
        for s in settings.sensors
    ]
    site = Site(settings.model_copy(update={"sensors": sensors}), catalog, clock)
    site.run(20)
    assert ("calibration-overdue" in site.open_rules("fridge-1-temp")) is fires
    assert site.sensor("fridge-1-temp").calibration_uncertainty == 0.1


def test_fault_rows_survive_in_the_database(settings: Settings, catalog: Catalog, clock: ManualClock) -> None:
    """What the bridge recorded during a fault stays recorded after it (nothing already stored is lost)."""
    site = Site(settings, catalog, clock)
    site.run(30)
    stored = readings.count(site.conn, site.sensor("fridge-1-lux"))
    _eio(site.buses)
    site.run(30)
    assert readings.count(site.conn, site.sensor("fridge-1-lux")) == stored
    assert isinstance(site.conn, sqlite3.Connection)
