"""Sensors that read the simulated fridge directly, implementing the same interface as the real drivers.

These are the simplest twins: no chip, no registers. The emulated-chip path (genuine Adafruit drivers over an
emulated I2C bus) reads the same environment one layer lower.
"""

from __future__ import annotations

from collections.abc import Callable

from hardware.errors import SensorUnavailable
from hardware.fridge import SimulatedFridge
from hardware.sensor import LightSample, TemperatureSample


class SimulatedLightSensor:
    """Illuminance straight from the simulated fridge."""

    model = "simulated"

    def __init__(self, fridge: SimulatedFridge, key: str, now: Callable[[], float]) -> None:
        self._fridge = fridge
        self._key = key
        self._now = now

    def read_light(self) -> LightSample:
        t = self._now()
        if self._fridge.sensor_dropped_out(self._key, t):
            raise SensorUnavailable(f"simulated light sensor {self._key!r} dropped out")
        return LightSample(lux=self._fridge.conditions(t).lux)


class SimulatedTemperatureSensor:
    """Temperature (and humidity) straight from the simulated fridge."""

    model = "simulated"

    def __init__(self, fridge: SimulatedFridge, key: str, now: Callable[[], float]) -> None:
        self._fridge = fridge
        self._key = key
        self._now = now

    def read_temperature(self) -> TemperatureSample:
        t = self._now()
        if self._fridge.sensor_dropped_out(self._key, t):
            raise SensorUnavailable(f"simulated temperature sensor {self._key!r} dropped out")
        c = self._fridge.conditions(t)
        return TemperatureSample(celsius=c.celsius, relative_humidity_percent=c.relative_humidity_percent)
