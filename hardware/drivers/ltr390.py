"""LTR390 (lux and UV) through the genuine ``adafruit_ltr390`` driver, auto-ranging both channels.

The chip converts one channel at a time (ALS or UVS, chosen by a mode bit) with one shared gain and
resolution, so each sample ranges the lux channel, then the UV channel, each over its own ladder of
settings, and converts with the driver's own formulas: ``lux`` as the driver's ``lux`` property,
``UVI`` as its ``uvi`` property (the datasheet's 2300 counts per UV index at 18x and 20 bits). The UV index
becomes a near-UV (300-400 nm) irradiance estimate through an assumed W/m² per UV index
(:data:`hardware.chips.ltr390.NEAR_UV_W_PER_M2_PER_UVI`), reported with its raw counts as a
:class:`hardware.sensor.SpectralSample`. At the least sensitive setting a full-scale count is saturated.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import adafruit_ltr390  # type: ignore[import-untyped]  # the Adafruit drivers ship no type hints

from hardware.calibration import Calibration
from hardware.chips.ltr390 import NEAR_UV_W_PER_M2_PER_UVI
from hardware.drivers.bounded_wait import bounded_waits
from hardware.drivers.frozen import FrozenDetector
from hardware.drivers.light_ranging import auto_range
from hardware.errors import SensorOutOfRange, SensorUnavailable
from hardware.i2c_emulator import EmulatedI2C
from hardware.sensor import LightSample, SpectralSample

G, R = adafruit_ltr390.Gain, adafruit_ltr390.Resolution
# (gain register, resolution register), least to most sensitive.
LADDER: tuple[tuple[int, int], ...] = (
    (G.GAIN_1X, R.RESOLUTION_16BIT),
    (G.GAIN_1X, R.RESOLUTION_18BIT),
    (G.GAIN_3X, R.RESOLUTION_18BIT),
    (G.GAIN_18X, R.RESOLUTION_18BIT),
    (G.GAIN_18X, R.RESOLUTION_20BIT),
)
INTEGRATION_MS = {20: 400.0, 19: 200.0, 18: 100.0, 17: 50.0, 16: 25.0, 13: 12.5}  # datasheet
LOW_COUNTS = 100
# Beyond the ALS range at its least sensitive setting (0.6 · 65535 / 0.25 ≈ 157 klx) with margin.
MAX_LUX = 157_000.0 * 1.5
# The longest a conversion takes is 400 ms (20 bits) plus the driver's 30 ms mode switch; past this the
# chip is not converting.
WAIT_LIMIT_SECONDS = 2.0


def _bits(step: int) -> int:
    return int(R.factor[LADDER[step][1]])


def _gain(step: int) -> float:
    return float(G.factor[LADDER[step][0]])


class Ltr390Sensor:
    model = "ltr390"

    def __init__(
        self,
        i2c: object,
        address: int = 0x53,
        calibration: Calibration | None = None,
        near_uv_w_per_m2_per_uvi: float = NEAR_UV_W_PER_M2_PER_UVI,
        settle: Callable[[float], None] | None = None,
    ) -> None:
        """``settle(seconds)`` waits out a conversion at new settings (none on an emulated bus)."""
        self._i2c = i2c
        self._address = address
        self._calibration = calibration or Calibration()
        self._w_per_uvi = self._calibration.near_uv_w_per_m2_per_uvi or near_uv_w_per_m2_per_uvi
        emulated = isinstance(i2c, EmulatedI2C)
        self._settle = settle or ((lambda s: None) if emulated else time.sleep)
        self._name = f"LTR390 at 0x{address:02x}"
        self._frozen = FrozenDetector(self._name)
        try:
            with bounded_waits(adafruit_ltr390, i2c, WAIT_LIMIT_SECONDS, f"LTR390 at 0x{address:02x}"):
                self._dev = adafruit_ltr390.LTR390(i2c, address)
        except (OSError, ValueError, RuntimeError) as exc:
            raise SensorUnavailable(f"LTR390 at 0x{address:02x} not found: {exc}") from exc
        self._als_step = 2
        self._uv_step = len(LADDER) - 1  # UV is faint indoors: start most sensitive

    def _io_error(self, exc: OSError) -> SensorUnavailable:
        return SensorUnavailable(f"LTR390 at 0x{self._address:02x}: {exc}")

    def _apply(self, step: int) -> None:
        gain_reg, res_reg = LADDER[step]
        try:
            self._dev.gain = gain_reg
            self._dev.resolution = res_reg
        except OSError as exc:
            raise self._io_error(exc) from exc
        self._settle(1.2 * INTEGRATION_MS[_bits(step)] / 1000.0)

    def _reader(self, uv: bool) -> Callable[[], int]:
        def read() -> int:
            try:
                with bounded_waits(adafruit_ltr390, self._i2c, WAIT_LIMIT_SECONDS, self._name):
                    return int(self._dev.uvs if uv else self._dev.light)
            except OSError as exc:
                raise self._io_error(exc) from exc

        return read

    def _ranged(self, step: int, uv: bool) -> tuple[int, int, bool]:
        self._apply(step)
        ranged = auto_range(
            step, len(LADDER) - 1, self._reader(uv), self._apply, lambda s: 2 ** _bits(s) - 1, LOW_COUNTS
        )
        return ranged.counts, ranged.step, ranged.saturated

    def read_light(self) -> LightSample:
        als, self._als_step, als_saturated = self._ranged(self._als_step, uv=False)
        uvs, self._uv_step, uv_saturated = self._ranged(self._uv_step, uv=True)
        self._frozen.check((als, uvs))
        als_bits, uv_bits = _bits(self._als_step), _bits(self._uv_step)
        als_gain, uv_gain = _gain(self._als_step), _gain(self._uv_step)
        # The driver's own formulas (its ``lux`` and ``uvi`` properties), on the counts just read.
        lux = als * 0.6 / (als_gain * R.integration[LADDER[self._als_step][1]]) * self._dev.window_factor
        uvi = uvs / ((uv_gain / 18) * (2**uv_bits) / (2**20) * 2300) * self._dev.window_factor
        lux = self._calibration.apply(lux)
        if lux > MAX_LUX:
            raise SensorOutOfRange(f"LTR390 at 0x{self._address:02x}: {lux:.0f} lx is beyond its range")
        return LightSample(
            lux=lux,
            saturated=als_saturated,
            raw_counts=(als,),
            gain=als_gain,
            integration_ms=INTEGRATION_MS[als_bits],
            spectrum=SpectralSample(
                chip="ltr390",
                channels=("uvs",),
                counts=(uvs,),
                gain=uv_gain,
                integration_ms=INTEGRATION_MS[uv_bits],
                saturated=uv_saturated,
                near_uv_w_per_m2=uvi * self._w_per_uvi,
            ),
        )
