"""MCP9808 (±0.25 °C typical, −40 to 125 °C) through the genuine ``adafruit_mcp9808`` driver."""

from __future__ import annotations

import adafruit_mcp9808  # type: ignore[import-untyped]  # the Adafruit drivers ship no type hints

from hardware.drivers.thermometer import I2cThermometer


class Mcp9808Sensor(I2cThermometer):
    model = "mcp9808"
    default_address = 0x18
    label = "MCP9808"

    def _open(self, i2c: object, address: int) -> object:
        return adafruit_mcp9808.MCP9808(i2c, address)

    def _measure(self) -> tuple[float, float | None]:
        return float(self._dev.temperature), None  # type: ignore[attr-defined]
