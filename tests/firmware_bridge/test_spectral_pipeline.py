"""Spectral and UV chips end to end: genuine drivers on emulated chips, the real loop, engine and SQLite."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from firmware_bridge.acquisition import AcquisitionLoop, AcquisitionSettings, SampleTime
from firmware_bridge.sensors import build_fridge, build_simulated_sensors
from hardware.clock import ManualClock
from monitor import measured_light
from monitor.alerts.rules import default_rules
from monitor.config import ScenarioConfig, Settings, parse_settings
from monitor.engine import Engine
from monitor.errors import ConfigError
from monitor.model.profiles import Catalog
from monitor.site_sync import sync_site
from monitor.site_view import SiteView
from monitor.store import Database, sites, spectral
from tests.conftest import simulated_raw
from tests.spectral_reference import thin_kappa_of_source

SPECTRAL_SENSORS = [
    {"key": "fridge-1-spectrum", "location": "fridge-1", "quantity": "light", "driver": "as7341",
     "interval_seconds": 2.0},
    {"key": "fridge-1-uv", "location": "fridge-1", "quantity": "light", "driver": "ltr390",
     "interval_seconds": 2.0},
]  # fmt: skip


def spectral_settings(tmp_path: Path, lamp: str, lux: float) -> Settings:
    raw: dict[str, Any] = simulated_raw()
    raw["sensors"] = [*raw["sensors"], *SPECTRAL_SENSORS]
    raw["simulation"] = {
        "seed": 1,
        "openings_per_day": 0.0,
        "lamp": lamp,
        "scenarios": [
            {"kind": "light-stuck-on", "start_after_seconds": 0, "duration_seconds": 1e6, "lux": lux}
        ],
    }
    return parse_settings(raw, "spectral.toml", {"db_path": tmp_path / "v.db"})


def run_site(settings: Settings, catalog: Catalog, seconds: int) -> sqlite3.Connection:
    clock = ManualClock()
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, clock.wall())
    sample_time = SampleTime()
    fridge = build_fridge(settings.simulation, clock.wall())
    sensors, _ = build_simulated_sensors(settings, fridge, sample_time)
    engine = Engine(conn, catalog, default_rules(settings.rules.thresholds()))
    loop = AcquisitionLoop(
        sensors,
        clock,
        engine,
        AcquisitionSettings(batch_seconds=10.0, stamp_at_due_time=True),
        sample_time=sample_time,
        real_monotonic=clock.monotonic,
    )
    for _ in range(seconds):
        loop.poll_once()
        if loop.due_for_flush():
            loop.flush()
        clock.advance(1.0)
    loop.flush()
    return conn


@pytest.mark.parametrize(
    ("lamp", "source"),
    [("led-4000k", "LED-B3"), ("fluorescent-cool-white", "FL2"), ("incandescent", "A")],
    ids=["led", "fluorescent", "incandescent"],
)
def test_as7341_channels_and_kappa_are_stored(
    tmp_path: Path, catalog: Catalog, lamp: str, source: str
) -> None:
    """Every AS7341 reading keeps its ten counts and settings, and a κ_s within 8 % of the lamp's own: the
    integral under its CIE spectrum (0.98, 1.00, 0.90; §6's photon counts were 0.95, 1.00, 0.79)."""
    kappa = thin_kappa_of_source(source)
    conn = run_site(spectral_settings(tmp_path, lamp, 500.0), catalog, 60)
    sensor = sites.sensor_by_key(conn, "fridge-1-spectrum")
    rows = conn.execute(
        "SELECT channels, counts, gain, integration_ms, kappa, lux FROM spectral_readings"
        " WHERE sensor_id = ?",
        (sensor.id,),
    ).fetchall()
    assert len(rows) == 30
    for channels, counts, gain, integration_ms, k, lux in rows:
        assert len(json.loads(channels)) == len(json.loads(counts)) == 10
        assert gain > 0
        assert integration_ms > 0
        assert k == pytest.approx(kappa, rel=0.08)
        assert lux == pytest.approx(500.0, rel=0.05)
    ledgers = spectral.ledgers_at(conn, sensor, 1e12)
    assert ledgers.kappa_lux_hours / ledgers.spectral_lux_hours == pytest.approx(kappa, rel=0.08)


def test_ltr390_near_uv_ledger_accumulates_under_daylight(tmp_path: Path, catalog: Catalog) -> None:
    """Daylight at 1000 lx (D65: 0.54 W/m² of 300-400 nm) for 10 min is about 0.09 W·h/m² of near-UV."""
    conn = run_site(spectral_settings(tmp_path, "daylight-window", 1000.0), catalog, 602)
    sensor = spectral.spectral_sensor(conn, sites.location_by_key(conn, "fridge-1").id, near_uv=True)
    assert sensor is not None
    assert sensor.key == "fridge-1-uv"
    dose = spectral.ledgers_at(conn, sensor, 1e12).near_uv_wh_per_m2
    assert dose == pytest.approx(0.54 * 600 / 3600, rel=0.08)
    latest = spectral.latest(conn, sensor)
    assert latest is not None
    assert latest[1] is None  # a UV channel alone gives no κ_s
    budget = measured_light.near_uv_dose(conn, sensor.location_id)
    assert budget is not None
    assert budget.wh_per_m2 == pytest.approx(dose)
    assert budget.fraction_of_ich_q1b == pytest.approx(dose / 200.0)


def test_location_without_uv_sensor_has_no_near_uv_dose(tmp_path: Path, catalog: Catalog) -> None:
    """The shipped site has no UV sensor: no near-UV dose, rather than a zero nobody measured."""
    raw = simulated_raw()
    settings = parse_settings(raw, "simulated.toml", {"db_path": tmp_path / "v.db"})
    conn = run_site(settings, catalog, 5)
    assert measured_light.near_uv_dose(conn, sites.location_by_key(conn, "fridge-1").id) is None


def test_unknown_simulated_lamp_is_a_config_error(tmp_path: Path) -> None:
    """A simulated lamp with no spectrum fails naming the key and the known lamps."""
    settings = spectral_settings(tmp_path, "sodium-vapour", 100.0)
    with pytest.raises(ConfigError, match=r"simulation.lamp: unknown lamp 'sodium-vapour'; known: "):
        build_fridge(settings.simulation, 0.0)


def test_shipped_spectral_site_measures_its_led(tmp_path: Path, catalog: Catalog) -> None:
    """The shipped spectral example runs through the genuine drivers: its warm-white LED (CIE LED-B1, κ_s
    0.77 by the integral under its spectrum; §6's photon count 0.63) is measured, with the location naming
    no lamp."""
    text = resources.files("vialguard").joinpath("data/simulated-spectral.toml").read_text(encoding="utf-8")
    settings = parse_settings(tomllib.loads(text), "simulated-spectral.toml", {"db_path": tmp_path / "v.db"})
    lit = settings.simulation.model_copy(
        update={
            "scenarios": [
                ScenarioConfig(kind="light-stuck-on", start_after_seconds=0, duration_seconds=1e6, lux=300.0)
            ]
        }
    )
    conn = run_site(settings.model_copy(update={"simulation": lit}), catalog, 30)
    location = sites.location_by_key(conn, "fridge-1").id
    kappa = measured_light.current_kappa(SiteView(conn), catalog, location)
    assert kappa.best == pytest.approx(thin_kappa_of_source("LED-B1"), rel=0.08)
    assert measured_light.near_uv_dose(conn, location) is not None
