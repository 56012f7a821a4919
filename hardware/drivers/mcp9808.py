"""MCP9808 (±0.25 °C typical) through the genuine ``adafruit_mcp9808`` driver."""

from __future__ import annotations

import adafruit_mcp9808  # type: ignore[import-untyped]  # the Adafruit drivers ship no type hints

from hardware.calibration import Calibration
from hardware.drivers.frozen import FrozenDetector
from hardware.errors import SensorOutOfRange, SensorUnavailable
from hardware.sensor import TemperatureSample

# The chip's specified operating range (datasheet): outside it a reading is not trustworthy.
MIN_CELSIUS, MAX_CELSIUS = -40.0, 125.0


class Mcp9808Sensor:
    model = "mcp9808"

    def __init__(self, i2c: object, address: int = 0x18, calibration: Calibration | None = None) -> None:
        self._address = address
        self._calibration = calibration or Calibration()
        # 1/16 °C steps: a fridge at equilibrium can hold one value for minutes, so allow long runs.
        self._frozen = FrozenDetector(f"MCP9808 at 0x{address:02x}", repeats=360, noise_floor=-1)
        try:
            self._dev = adafruit_mcp9808.MCP9808(i2c, address)
        except (OSError, ValueError) as exc:
            raise SensorUnavailable(f"MCP9808 at 0x{address:02x} not found: {exc}") from exc

    def read_temperature(self) -> TemperatureSample:
        try:
            celsius = float(self._dev.temperature)
        except OSError as exc:
            raise SensorUnavailable(f"MCP9808 at 0x{self._address:02x}: {exc}") from exc
        if not MIN_CELSIUS <= celsius <= MAX_CELSIUS:
            raise SensorOutOfRange(f"MCP9808 at 0x{self._address:02x}: {celsius:.2f} °C is outside its range")
        self._frozen.check((round(celsius * 16),))
        return TemperatureSample(celsius=self._calibration.apply(celsius))
