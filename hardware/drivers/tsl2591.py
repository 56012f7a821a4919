"""TSL2591 (188 µlx to 88 klx) through the genuine ``adafruit_tsl2591`` driver, auto-ranging.

The driver's ``lux`` raises on overflow and goes negative when infrared dominates, so this class reads the
raw channels through the driver once per sample and converts them with the driver's own constants,
choosing gain and integration time so the full-spectrum count sits between a floor (enough counts to
resolve) and the ADC ceiling. At the least sensitive setting an overflow is reported as a saturated sample:
the lux value is then a lower bound, never a plain number.
"""

from __future__ import annotations

from collections.abc import Callable

import adafruit_tsl2591  # type: ignore[import-untyped]  # the Adafruit drivers ship no type hints

from hardware.calibration import Calibration
from hardware.drivers.frozen import FrozenDetector
from hardware.errors import SensorOutOfRange, SensorUnavailable
from hardware.sensor import LightSample

# Settings from least to most sensitive: (gain register value, gain, integration register value, ms).
LADDER: tuple[tuple[int, float, int, float], ...] = (
    (adafruit_tsl2591.GAIN_LOW, 1.0, adafruit_tsl2591.INTEGRATIONTIME_100MS, 100.0),
    (adafruit_tsl2591.GAIN_MED, 25.0, adafruit_tsl2591.INTEGRATIONTIME_100MS, 100.0),
    (adafruit_tsl2591.GAIN_HIGH, 428.0, adafruit_tsl2591.INTEGRATIONTIME_100MS, 100.0),
    (adafruit_tsl2591.GAIN_MAX, 9876.0, adafruit_tsl2591.INTEGRATIONTIME_200MS, 200.0),
    (adafruit_tsl2591.GAIN_MAX, 9876.0, adafruit_tsl2591.INTEGRATIONTIME_600MS, 600.0),
)
LOW_COUNTS = 200  # below this, step up in sensitivity (quantisation under 0.5 %)
HIGH_FRACTION = 0.8  # above this share of the ceiling, step down before it overflows
MAX_STEPS = len(LADDER)
MAX_LUX = 88_000.0 * 1.5  # beyond the chip's 88 klx range with margin: a reading above is not physical


def counts_to_lux(c0: int, c1: int, gain: float, integration_ms: float) -> float:
    """The driver's conversion (Adafruit's TSL2591 library): CPL = ATIME·AGAIN/408."""
    cpl = integration_ms * gain / adafruit_tsl2591._TSL2591_LUX_DF
    lux1 = (c0 - adafruit_tsl2591._TSL2591_LUX_COEFB * c1) / cpl
    lux2 = (adafruit_tsl2591._TSL2591_LUX_COEFC * c0 - adafruit_tsl2591._TSL2591_LUX_COEFD * c1) / cpl
    return float(max(lux1, lux2, 0.0))


class Tsl2591Sensor:
    model = "tsl2591"

    def __init__(
        self,
        i2c: object,
        address: int = 0x29,
        calibration: Calibration | None = None,
        settle: Callable[[float], None] | None = None,
    ) -> None:
        """``settle(seconds)`` waits for a new integration after a settings change (none when emulated)."""
        self._address = address
        self._calibration = calibration or Calibration()
        self._settle = settle or (lambda seconds: None)
        self._frozen = FrozenDetector(f"TSL2591 at 0x{address:02x}")
        try:
            self._dev = adafruit_tsl2591.TSL2591(i2c, address)
        except (OSError, ValueError, RuntimeError) as exc:
            raise SensorUnavailable(f"TSL2591 at 0x{address:02x} not found: {exc}") from exc
        self._step = 1  # the driver starts at medium gain, 100 ms
        self._apply(self._step)

    def _apply(self, step: int) -> None:
        gain_reg, _, it_reg, integration_ms = LADDER[step]
        try:
            self._dev.gain = gain_reg
            self._dev.integration_time = it_reg
        except OSError as exc:
            raise SensorUnavailable(f"TSL2591 at 0x{self._address:02x}: {exc}") from exc
        self._step = step
        self._settle(2 * integration_ms / 1000.0)

    def _raw(self) -> tuple[int, int]:
        try:
            c0, c1 = self._dev.raw_luminosity
        except OSError as exc:
            raise SensorUnavailable(f"TSL2591 at 0x{self._address:02x}: {exc}") from exc
        return int(c0), int(c1)

    def read_light(self) -> LightSample:
        for _ in range(MAX_STEPS):
            _, gain, _, integration_ms = LADDER[self._step]
            ceiling = (
                adafruit_tsl2591._TSL2591_MAX_COUNT_100MS
                if integration_ms == 100.0
                else adafruit_tsl2591._TSL2591_MAX_COUNT
            )
            c0, c1 = self._raw()
            overflow = c0 >= ceiling or c1 >= ceiling
            if (overflow or c0 > HIGH_FRACTION * ceiling) and self._step > 0:
                self._apply(self._step - 1)
                continue
            if c0 < LOW_COUNTS and self._step < len(LADDER) - 1 and not overflow:
                self._apply(self._step + 1)
                continue
            break
        self._frozen.check((c0, c1))
        lux = self._calibration.apply(counts_to_lux(c0, c1, gain, integration_ms))
        if lux > MAX_LUX:
            raise SensorOutOfRange(
                f"TSL2591 at 0x{self._address:02x}: {lux:.0f} lx is beyond the chip's range"
            )
        return LightSample(
            lux=lux, saturated=overflow, raw_counts=(c0, c1), gain=gain, integration_ms=integration_ms
        )
