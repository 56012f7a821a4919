"""BH1750 (1-65535 counts, 0.5 lx resolution in high-resolution mode 2) via the genuine ``adafruit_bh1750``.

Ranges between high-resolution mode 2 (0.42 lx/count, up to 27.3 klx) and high-resolution mode (0.83
lx/count, up to 54.6 klx); beyond that a reading is saturated and reported as a lower bound. The driver
sleeps 180 ms after each settings write, for the chip's conversion; skipped on an emulated bus.
"""

from __future__ import annotations

import adafruit_bh1750  # type: ignore[import-untyped]  # the Adafruit drivers ship no type hints

from hardware.calibration import Calibration
from hardware.drivers.conversion_delay import instant_if_emulated
from hardware.drivers.frozen import FrozenDetector
from hardware.drivers.light_ranging import auto_range
from hardware.errors import SensorUnavailable
from hardware.sensor import LightSample

R = adafruit_bh1750.Resolution
LADDER = ((R.MID, 1.0), (R.HIGH, 2.0))  # (resolution setting, counts per (lx·1.2)), least sensitive first
MAX_COUNTS = 65535


class Bh1750Sensor:
    model = "bh1750"

    def __init__(self, i2c: object, address: int = 0x23, calibration: Calibration | None = None) -> None:
        self._bus = i2c
        self._address = address
        self._calibration = calibration or Calibration()
        self._frozen = FrozenDetector(f"BH1750 at 0x{address:02x}")
        try:
            with instant_if_emulated(adafruit_bh1750, i2c):
                self._dev = adafruit_bh1750.BH1750(i2c, address)
        except (OSError, ValueError, RuntimeError) as exc:
            raise SensorUnavailable(f"BH1750 at 0x{address:02x} not found: {exc}") from exc
        self._step = 1  # the driver's default: high-resolution mode 2

    def _apply(self, step: int) -> None:
        try:
            with instant_if_emulated(adafruit_bh1750, self._bus):
                self._dev.resolution = LADDER[step][0]
        except OSError as exc:
            raise SensorUnavailable(f"BH1750 at 0x{self._address:02x}: {exc}") from exc

    def _read(self) -> int:
        try:
            return int(self._dev._raw_reading)
        except OSError as exc:
            raise SensorUnavailable(f"BH1750 at 0x{self._address:02x}: {exc}") from exc

    def read_light(self) -> LightSample:
        # No low-count step: the BH1750 has only the two resolutions, and mode 2 is already the finer one.
        ranged = auto_range(
            self._step, len(LADDER) - 1, self._read, self._apply, lambda s: MAX_COUNTS, 0, 0.95
        )
        self._step = ranged.step
        self._frozen.check((ranged.counts,))
        lux = float(self._dev._convert_to_lux(ranged.counts))  # the driver's /1.2 (and /2 in mode 2)
        return LightSample(
            lux=self._calibration.apply(lux),
            saturated=ranged.saturated,
            raw_counts=(ranged.counts,),
            # The chip's typical measurement time in both high-resolution modes (datasheet).
            gain=LADDER[ranged.step][1],
            integration_ms=120.0,
        )
