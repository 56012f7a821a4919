"""AS7341 (eight visible channels, clear, NIR) through the genuine ``adafruit_as7341`` driver.

The driver reads F1-F4 and F5-F8 in two SMUX configurations (each waits for a fresh integration: about
0.6 s a sample at the default 281 ms, so poll it every few seconds). This class ranges the gain (0.5x to
512x at the driver's ATIME 100, ASTEP 999) so the brightest channel sits between a floor and 80 % of the
ADC's full scale, and reports the eight filter counts, clear and NIR as a
:class:`hardware.sensor.SpectralSample`. At 0.5x a full-scale count is saturated.

Lux is an estimate from the filter channels: each channel's count per gain and millisecond, over the
assumed common responsivity and the channel's Gaussian width, gives the spectral irradiance at its peak;
the CIE V(λ)-weighted trapezoid over the peaks, times 683 lm/W, gives lux. Over the CIE sources of the
photokinetics reference §6 it lies within a few percent of the true lux (tests measure it); its absolute
scale rests on the assumed responsivity, so calibrate it against a lux meter with the calibration gain.
"""

from __future__ import annotations

import adafruit_as7341  # type: ignore[import-untyped]  # the Adafruit drivers ship no type hints
import numpy as np

from hardware import spectra
from hardware.calibration import Calibration
from hardware.chips.as7341 import COUNTS_PER_GAIN_MS_W_PER_M2, FILTERS, FWHM_TO_AREA, NIR, STEP_US
from hardware.drivers.bounded_wait import bounded_waits
from hardware.drivers.frozen import FrozenDetector
from hardware.drivers.light_ranging import auto_range
from hardware.errors import SensorUnavailable
from hardware.sensor import LightSample, SpectralSample

GAIN_STEPS = tuple(range(11))  # AGAIN register 0..10: 0.5x · 2^n
FULL_SCALE = 65535  # (ATIME+1)(ASTEP+1) = 101 000 at the driver's settings, so the 16-bit limit
LOW_COUNTS = 100
# A sample waits for two integrations of 281 ms (and the SMUX commands); past this the chip is stuck.
WAIT_LIMIT_SECONDS = 2.0
CHANNELS: tuple[str, ...] = (*(ch.name for ch in FILTERS), "clear", NIR.name)


def gain_of(step: int) -> float:
    return 0.5 * 2.0**step


def lux_from_counts(counts: tuple[int, ...], gain: float, integration_ms: float) -> float:
    """Lux from the eight filter counts: V(λ)-weighted trapezoid of the irradiance at the channel peaks."""
    peaks = np.array([ch.peak_nm for ch in FILTERS])
    widths = np.array([ch.fwhm_nm for ch in FILTERS]) * FWHM_TO_AREA
    per_nm = np.asarray(counts[: len(FILTERS)], dtype=np.float64) / (
        gain * integration_ms * COUNTS_PER_GAIN_MS_W_PER_M2 * widths
    )
    t = spectra.table()
    v = np.interp(peaks, t.wavelengths_nm, t.v_lambda)
    return float(spectra.KM_LUMENS_PER_WATT * np.trapezoid(per_nm * v, peaks))


class As7341Sensor:
    model = "as7341"

    def __init__(self, i2c: object, address: int = 0x39, calibration: Calibration | None = None) -> None:
        self._i2c = i2c
        self._address = address
        self._calibration = calibration or Calibration()
        self._name = f"AS7341 at 0x{address:02x}"
        self._frozen = FrozenDetector(self._name)
        try:
            with bounded_waits(adafruit_as7341, i2c, WAIT_LIMIT_SECONDS, self._name):
                self._dev = adafruit_as7341.AS7341(i2c, address)
                # The driver's settings, read once: the integration time of every sample.
                self._integration_ms = (self._dev.atime + 1) * (self._dev.astep + 1) * STEP_US / 1000.0
        except (OSError, ValueError, RuntimeError) as exc:
            raise SensorUnavailable(f"{self._name} not found: {exc}") from exc
        self._step = 8  # the driver's own start: 128x
        self._last: tuple[int, ...] = ()

    def _fail(self, exc: Exception) -> SensorUnavailable:
        return SensorUnavailable(f"{self._name}: {exc}")

    def _apply(self, step: int) -> None:
        try:
            self._dev.gain = GAIN_STEPS[step]
        except OSError as exc:
            raise self._fail(exc) from exc

    def _read(self) -> int:
        try:
            with bounded_waits(adafruit_as7341, self._i2c, WAIT_LIMIT_SECONDS, self._name):
                filters = tuple(int(c) for c in self._dev.all_channels)
                clear, nir = int(self._dev.channel_clear), int(self._dev.channel_nir)
        except (OSError, RuntimeError) as exc:  # RuntimeError: the driver's data-ready timeout
            raise self._fail(exc) from exc
        self._last = (*filters, clear, nir)
        # Ranged on the filter channels, which the lux and the spectrum rest on; the clear channel's wider
        # band fills first and is stored as read.
        return max(filters)

    def read_light(self) -> LightSample:
        ranged = auto_range(
            self._step, len(GAIN_STEPS) - 1, self._read, self._apply, lambda s: FULL_SCALE, LOW_COUNTS
        )
        self._step = ranged.step
        counts = self._last
        self._frozen.check(counts)
        gain = gain_of(ranged.step)
        integration_ms = self._integration_ms
        lux = self._calibration.apply(lux_from_counts(counts, gain, integration_ms))
        return LightSample(
            lux=max(lux, 0.0),
            saturated=ranged.saturated,
            raw_counts=counts,
            gain=gain,
            integration_ms=integration_ms,
            spectrum=SpectralSample(
                chip="as7341",
                channels=CHANNELS,
                counts=counts,
                gain=gain,
                integration_ms=integration_ms,
                saturated=ranged.saturated,
            ),
        )
