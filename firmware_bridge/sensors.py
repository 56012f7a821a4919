"""Build the configured sensors: simulated twins reading the fridge, or drivers on a real bus."""

from __future__ import annotations

from firmware_bridge.acquisition import SampleTime, ScheduledSensor
from hardware.fridge import FridgeParameters, Scenario, SimulatedFridge
from hardware.simulated_sensors import SimulatedLightSensor, SimulatedTemperatureSensor
from monitor.config import Settings, SimulationConfig
from monitor.errors import ConfigError


def build_fridge(sim: SimulationConfig, origin: float) -> SimulatedFridge:
    """The simulated fridge, with scenario start times made absolute from the simulation's ``origin``."""
    fridge = SimulatedFridge(
        FridgeParameters(
            seed=sim.seed,
            openings_per_day=sim.openings_per_day,
            opening_hours=sim.opening_hours,
            utc_offset_hours=sim.utc_offset_hours,
        )
    )
    for sc in sim.scenarios:
        fridge.add_scenario(
            Scenario(
                kind=sc.kind,
                start=origin + sc.start_after_seconds,
                duration_seconds=sc.duration_seconds,
                lux=sc.lux,
                celsius=sc.celsius,
                sensor=sc.sensor,
            )
        )
    return fridge


def build_simulated_sensors(
    settings: Settings, fridge: SimulatedFridge, sample_time: SampleTime
) -> list[ScheduledSensor]:
    """Every configured sensor as a simulated twin reading ``fridge`` at the loop's sample time."""
    out: list[ScheduledSensor] = []
    for s in settings.sensors:
        if s.quantity == "light":
            sensor: SimulatedLightSensor | SimulatedTemperatureSensor = SimulatedLightSensor(
                fridge, s.key, sample_time
            )
        else:
            sensor = SimulatedTemperatureSensor(fridge, s.key, sample_time)
        out.append(ScheduledSensor(s.key, sensor, s.interval))
    return out


def build_real_sensors(settings: Settings) -> list[ScheduledSensor]:
    """Sensors on the machine's own buses, from each sensor's ``driver``."""
    for i, s in enumerate(settings.sensors):
        if s.driver == "simulated":
            raise ConfigError(
                f"sensors[{i}].driver: 'simulated' needs --simulate; name a chip driver for a real sensor"
            )
        raise ConfigError(f"sensors[{i}].driver: unknown driver {s.driver!r}")
    return []
