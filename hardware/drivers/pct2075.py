"""PCT2075 (±1 °C, −55 to 125 °C, 0.125 °C steps) through the genuine ``adafruit_pct2075`` driver."""

from __future__ import annotations

import adafruit_pct2075  # type: ignore[import-untyped]  # the Adafruit drivers ship no type hints

from hardware.drivers.thermometer import I2cThermometer


class Pct2075Sensor(I2cThermometer):
    model = "pct2075"
    default_address = 0x37
    label = "PCT2075"
    min_celsius = -55.0
    resolution_celsius = 0.125

    def _open(self, i2c: object, address: int) -> object:
        return adafruit_pct2075.PCT2075(i2c, address)

    def _measure(self) -> tuple[float, float | None]:
        return float(self._dev.temperature), None  # type: ignore[attr-defined]
