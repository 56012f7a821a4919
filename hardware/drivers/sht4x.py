"""SHT4x (±0.2 °C, ±1.8 %RH, −40 to 125 °C) through the genuine ``adafruit_sht4x`` driver, with humidity.

The driver checks a CRC on every word and raises ``RuntimeError`` on a mismatch: translated to
:class:`hardware.errors.SensorUnavailable`, so a corrupted transfer is a fault, never a wrong value.
"""

from __future__ import annotations

import adafruit_sht4x  # type: ignore[import-untyped]  # the Adafruit drivers ship no type hints

from hardware.drivers.conversion_delay import instant_if_emulated
from hardware.drivers.thermometer import I2cThermometer


class Sht4xSensor(I2cThermometer):
    model = "sht4x"
    default_address = 0x44
    label = "SHT4x"
    resolution_celsius = 0.01

    def _open(self, i2c: object, address: int) -> object:
        with instant_if_emulated(adafruit_sht4x, i2c):
            return adafruit_sht4x.SHT4x(i2c, address)

    def _measure(self) -> tuple[float, float | None]:
        with instant_if_emulated(adafruit_sht4x, self._bus):
            celsius, humidity = self._dev.measurements  # type: ignore[attr-defined]
        return float(celsius), float(humidity)
