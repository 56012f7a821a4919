"""VEML7700 (0.0036 lx resolution, up to 120 klx) through the genuine ``adafruit_veml7700`` driver.

The driver starts at gain 1/8, 100 ms and tops out near 472 lx at its most sensitive setting, so this class
auto-ranges over gain and integration time, converting with the driver's own ``compute_lux`` (with
Vishay's non-linearity correction at gains 1/8 and 1/4, as the driver's ``autolux`` does).
"""

from __future__ import annotations

import adafruit_veml7700  # type: ignore[import-untyped]  # the Adafruit drivers ship no type hints

from hardware.calibration import Calibration
from hardware.drivers.frozen import FrozenDetector
from hardware.drivers.light_ranging import auto_range
from hardware.errors import SensorUnavailable
from hardware.sensor import LightSample

V = adafruit_veml7700.VEML7700
# (gain register, gain, integration register, ms), least to most sensitive.
LADDER: tuple[tuple[int, float, int, float], ...] = (
    (V.ALS_GAIN_1_8, 0.125, V.ALS_25MS, 25.0),
    (V.ALS_GAIN_1_8, 0.125, V.ALS_100MS, 100.0),
    (V.ALS_GAIN_1_4, 0.25, V.ALS_100MS, 100.0),
    (V.ALS_GAIN_1, 1.0, V.ALS_100MS, 100.0),
    (V.ALS_GAIN_2, 2.0, V.ALS_100MS, 100.0),
    (V.ALS_GAIN_2, 2.0, V.ALS_400MS, 400.0),
    (V.ALS_GAIN_2, 2.0, V.ALS_800MS, 800.0),
)
LOW_COUNTS = 100
MAX_COUNTS = 65535
# The datasheet's range; beyond it the non-linearity correction is extrapolated and means nothing.
MAX_LUX = 120_000.0


class Veml7700Sensor:
    model = "veml7700"

    def __init__(self, i2c: object, address: int = 0x10, calibration: Calibration | None = None) -> None:
        self._address = address
        self._calibration = calibration or Calibration()
        self._frozen = FrozenDetector(f"VEML7700 at 0x{address:02x}")
        try:
            self._dev = V(i2c, address)
        except (OSError, ValueError, RuntimeError) as exc:
            raise SensorUnavailable(f"VEML7700 at 0x{address:02x} not found: {exc}") from exc
        self._step = 1  # the driver's own start: gain 1/8, 100 ms

    def _io_error(self, exc: OSError) -> SensorUnavailable:
        return SensorUnavailable(f"VEML7700 at 0x{self._address:02x}: {exc}")

    def _apply(self, step: int) -> None:
        gain_reg, _, it_reg, _ = LADDER[step]
        try:
            self._dev.light_gain = gain_reg
            self._dev.light_integration_time = it_reg
        except OSError as exc:
            raise self._io_error(exc) from exc

    def _read(self) -> int:
        try:
            return int(self._dev.light)
        except OSError as exc:
            raise self._io_error(exc) from exc

    def read_light(self) -> LightSample:
        ranged = auto_range(
            self._step, len(LADDER) - 1, self._read, self._apply, lambda s: MAX_COUNTS, LOW_COUNTS
        )
        self._step = ranged.step
        _, gain, _, integration_ms = LADDER[ranged.step]
        self._frozen.check((ranged.counts,))
        try:
            lux = float(self._dev.compute_lux(ranged.counts, use_correction=gain <= 0.25))
        except OSError as exc:
            raise self._io_error(exc) from exc
        beyond_range = lux > MAX_LUX
        return LightSample(
            lux=self._calibration.apply(min(lux, MAX_LUX)),
            saturated=ranged.saturated or beyond_range,
            raw_counts=(ranged.counts,),
            gain=gain,
            integration_ms=integration_ms,
        )
