"""AS7341 11-channel spectral sensor (ams OSRAM), as registers, with its SMUX.

Registers used by the Adafruit driver (AS7341 datasheet DS000504 v3-00, §10): WHOAMI 0x92 (ID 0b001001 in
bits 7:2), ENABLE 0x80 (PON bit 0, SP_EN bit 1, SMUXEN bit 4, cleared by the chip when the SMUX command
is done), ATIME 0x81, ASTATUS 0x94 then CH0-CH5 data 0x95-0xA0 (16-bit little-endian), STATUS2 0xA3
(AVALID bit 6, ASAT_DIGITAL bit 4, ASAT_ANALOG bit 3), CFG1 0xAA (AGAIN: 0.5x · 2^n), CFG6 0xAF (SMUX
command bits 4:3), ASTEP 0xCA-0xCB. The six ADCs read whichever photodiodes the SMUX connects to them:
the driver writes the SMUX map to 0x00-0x13 (two photodiodes per byte, one per nibble, the nibble naming
ADC 1-6 or 0 for none) and then executes it; this model decodes the same map, so a read of F1-F4 and a read
of F5-F8 see what the real SMUX would route.

Channels (datasheet §6, typical peak and FWHM): F1 415/26, F2 445/30, F3 480/36, F4 515/39, F5 555/39,
F6 590/40, F7 630/50, F8 680/52 nm; NIR 910 nm; Clear broadband. Each filter's response is modelled as a
Gaussian of that peak and FWHM (an approximation of the datasheet's plotted curves); the clear channel as
the sum of F1-F8, the NIR channel as a Gaussian of 50 nm FWHM (both ASSUMED shapes). Every photodiode
pair (left/right) contributes half its filter's signal.

Counts = gain · integration_ms · :data:`COUNTS_PER_GAIN_MS_W_PER_M2` · ∫ S(λ) E(λ) dλ, capped at the
ADC full scale min(65535, (ATIME+1)(ASTEP+1)) (datasheet). The common responsivity is an ASSUMPTION (the
per-channel responsivity table was not available): equal for all channels, so spectral ratios are taken
as they are; the lux the sensor class derives scales with it (use a calibration gain against a lux meter).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from hardware import spectra
from hardware.environment import Environment

WHOAMI_VALUE = 0b001001 << 2
STEP_US = 2.78  # integration step, datasheet
COUNTS_PER_GAIN_MS_W_PER_M2 = 3.0  # ASSUMED common responsivity (see the module docstring)
DARK_NOISE_COUNTS = 0.5
FWHM_TO_AREA = math.sqrt(math.pi / (4.0 * math.log(2.0)))  # ∫ of a unit-peak Gaussian, per nm of FWHM


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    peak_nm: float
    fwhm_nm: float


# The eight filter channels in wavelength order, as the sensor class reports them.
FILTERS: tuple[Channel, ...] = (
    Channel("F1_415", 415.0, 26.0),
    Channel("F2_445", 445.0, 30.0),
    Channel("F3_480", 480.0, 36.0),
    Channel("F4_515", 515.0, 39.0),
    Channel("F5_555", 555.0, 39.0),
    Channel("F6_590", 590.0, 40.0),
    Channel("F7_630", 630.0, 50.0),
    Channel("F8_680", 680.0, 52.0),
)
NIR = Channel("NIR_910", 910.0, 50.0)

# SMUX RAM byte n: (photodiode on the low nibble, photodiode on the high nibble), as the driver's SMUX_IN.
SMUX_MAP: tuple[tuple[str | None, str | None], ...] = (
    (None, "F3"), ("F1", None), (None, None), (None, "F8"), ("F6", None),
    ("F2", "F4"), (None, "F5"), ("F7", None), (None, "CLEAR"), (None, "F5"),
    ("F7", None), (None, None), (None, "F2"), ("F4", None), ("F8", "F6"),
    (None, "F3"), ("F1", None), (None, "CLEAR"), (None, None), ("NIR", None),
)  # fmt: skip


def _gaussian(wavelengths_nm: np.ndarray, ch: Channel) -> np.ndarray:
    return np.exp(-4.0 * math.log(2.0) * ((wavelengths_nm - ch.peak_nm) / ch.fwhm_nm) ** 2)


@cache
def _responses() -> dict[str, np.ndarray]:
    wl = spectra.table().wavelengths_nm
    out = {ch.name[:2]: _gaussian(wl, ch) for ch in FILTERS}
    out["CLEAR"] = sum((out[ch.name[:2]] for ch in FILTERS), np.zeros_like(wl))
    out["NIR"] = _gaussian(wl, NIR)
    return out


def photodiode_signals(lux: float, lamp: str) -> dict[str, float]:
    """∫ S(λ) E(λ) dλ per photodiode kind (W/m² in band) for ``lux`` of ``lamp`` light."""
    if lux <= 0.0 or lamp not in spectra.LAMP_SOURCES:
        return dict.fromkeys(_responses(), 0.0)
    wl = spectra.table().wavelengths_nm
    e = spectra.spectral_irradiance(lamp, lux)
    return {k: float(np.trapezoid(r * e, wl)) for k, r in _responses().items()}


class As7341Chip:
    def __init__(self, environment: Environment, now: Callable[[], float], seed: int = 0) -> None:
        self._env = environment
        self._now = now
        self._rng = random.Random(seed)
        self._regs = bytearray(256)
        self._regs[0x92] = WHOAMI_VALUE
        self._regs[0xA3] = 0x40  # AVALID: the emulated conversion is ready at once
        self._routing: dict[int, list[str]] = {}  # ADC 0-5 -> photodiodes (each a half of its filter)
        self._pointer = 0
        self.frozen_counts: tuple[int, ...] | None = None  # set to freeze all six ADCs
        self.stalled = False  # set: the SMUX command never completes (SMUXEN stays set)

    def _execute_smux(self) -> None:
        routing: dict[int, list[str]] = {}
        for n, (low, high) in enumerate(SMUX_MAP):
            byte = self._regs[n]
            for diode, adc in ((low, byte & 0x0F), (high, byte >> 4)):
                if diode is not None and 1 <= adc <= 6:
                    routing.setdefault(adc - 1, []).append(diode)
        self._routing = routing

    def _convert(self) -> None:
        atime, astep = self._regs[0x81], self._regs[0xCA] | (self._regs[0xCB] << 8)
        full_scale = min(65535, (atime + 1) * (astep + 1))
        gain = 0.5 * 2 ** min(self._regs[0xAA] & 0x1F, 10)
        integration_ms = (atime + 1) * (astep + 1) * STEP_US / 1000.0
        cond = self._env.conditions(self._now())
        signal = photodiode_signals(cond.lux, cond.lamp)
        counts: list[int] = []
        for adc in range(6):
            if self.frozen_counts is not None:
                counts.append(self.frozen_counts[adc])
                continue
            w = sum(0.5 * signal[d] for d in self._routing.get(adc, []))
            x = gain * integration_ms * COUNTS_PER_GAIN_MS_W_PER_M2 * w
            x += self._rng.gauss(0.0, math.sqrt(max(x, 0.0)) * 0.05 + DARK_NOISE_COUNTS)
            counts.append(min(max(round(x), 0), full_scale))
        saturated = any(c >= full_scale for c in counts)
        self._regs[0xA3] = 0x40 | (0x18 if saturated else 0)
        for adc, value in enumerate(counts):
            self._regs[0x95 + 2 * adc : 0x97 + 2 * adc] = value.to_bytes(2, "little")

    def write(self, data: bytes) -> None:
        self._pointer = data[0]
        for i, value in enumerate(data[1:]):
            self._regs[(self._pointer + i) & 0xFF] = value
        if self._pointer == 0x80 and len(data) > 1 and data[1] & 0x10:
            if (self._regs[0xAF] >> 3) & 0x3 == 2:  # "write SMUX configuration from RAM"
                self._execute_smux()
            if not self.stalled:
                self._regs[0x80] &= ~0x10 & 0xFF  # the chip clears SMUXEN when the command is done

    def read(self, length: int) -> bytes:
        # A read from ASTATUS (all six channels) or from one channel's data takes a fresh conversion.
        if 0x94 <= self._pointer <= 0xA0 and self._regs[0x80] & 0x03 == 0x03:  # powered, spectral on
            self._convert()
        return bytes(self._regs[(self._pointer + i) & 0xFF] for i in range(length))
