"""LTR-390UV ambient light and UV sensor (Lite-On), as registers.

Registers (one byte each; LTR-390UV-01 datasheet DS86-2015-0004): MAIN_CTRL 0x00 (bit 1 enable, bit 3 UVS
mode, bit 4 reset), MEAS_RATE 0x04 (resolution bits 6:4), GAIN 0x05 (bits 2:0), PART_ID 0x06 = 0xB2,
MAIN_STATUS 0x07 (bit 3 new data), ALS_DATA 0x0D-0x0F and UVS_DATA 0x10-0x12 (20 bits, little-endian).

The Adafruit driver converts ``lux = 0.6 · ALS / (gain · int_factor)`` (int_factor 4 at 20 bits down to
1/32 at 13 bits) and ``UVI = UVS / ((gain/18) · 2^bits/2^20 · 2300)``, the datasheet's 2300 counts per
UV index at gain 18 and 20 bits. This model inverts both. The UV index it reports is the environment's
near-UV (300-400 nm) irradiance, computed from the lamp's spectrum (:mod:`hardware.spectra`), divided by
:data:`NEAR_UV_W_PER_M2_PER_UVI`: an assumption (see there), the same one the sensor class inverts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from hardware import spectra
from hardware.environment import Environment

PART_ID = 0xB2
GAINS = {0: 1.0, 1: 3.0, 2: 6.0, 3: 9.0, 4: 18.0}
# Resolution register value: (ADC bits, the driver's lux integration factor, integration time in ms).
RESOLUTIONS = {
    0: (20, 4.0, 400.0),
    1: (19, 2.0, 200.0),
    2: (18, 1.0, 100.0),
    3: (17, 0.5, 50.0),
    4: (16, 0.25, 25.0),
    5: (13, 0.03125, 12.5),
}
LUX_PER_COUNT_AT_UNIT = 0.6  # datasheet and driver: lux = 0.6 · ALS / (gain · int_factor)
UVS_COUNTS_PER_UVI = 2300.0  # datasheet and driver: at gain 18x, 20-bit resolution
# ASSUMPTION, not a datasheet figure: the chip is rated in UV index under sunlight, and a daylight-like
# spectrum carries about 5 W/m² of 300-400 nm irradiance per UV index. vialguard reports the near-UV
# estimate it gives as an estimate; calibrate against a UV radiometer for a real figure.
NEAR_UV_W_PER_M2_PER_UVI = 5.0
DARK_NOISE_COUNTS = 0.3


def als_counts_for(lux: float, gain: float, int_factor: float) -> float:
    return lux * gain * int_factor / LUX_PER_COUNT_AT_UNIT


def uvs_counts_for(near_uv_w_per_m2: float, gain: float, bits: int) -> float:
    uvi = near_uv_w_per_m2 / NEAR_UV_W_PER_M2_PER_UVI
    return uvi * (gain / 18.0) * (2.0**bits / 2.0**20) * UVS_COUNTS_PER_UVI


def near_uv_of(lux: float, lamp: str, override_w_per_m2: float) -> float:
    """The 300-400 nm irradiance at ``lux`` of ``lamp`` light (an explicit override wins)."""
    if override_w_per_m2 > 0.0:
        return override_w_per_m2
    if lux <= 0.0 or lamp not in spectra.LAMP_SOURCES:
        return 0.0
    return float(spectra.near_uv_w_per_m2(lamp, lux))


class Ltr390Chip:
    def __init__(self, environment: Environment, now: Callable[[], float], seed: int = 0) -> None:
        self._env = environment
        self._now = now
        self._rng = random.Random(seed)
        self._regs = bytearray(0x30)
        self._regs[0x06] = PART_ID
        self._regs[0x07] = 0x08  # new data always ready: the emulated conversion is instant
        self._pointer = 0
        self.frozen_counts: int | None = None  # set to freeze both data registers
        self.stalled = False  # set: conversions stop, the data-ready bit never sets

    def _counts(self, uv: bool) -> int:
        if self.frozen_counts is not None:
            return self.frozen_counts
        if not self._regs[0x00] & 0x02:  # not enabled: no conversions
            return 0
        gain = GAINS.get(self._regs[0x05] & 0x07, 1.0)
        bits, int_factor, _ = RESOLUTIONS.get((self._regs[0x04] >> 4) & 0x07, RESOLUTIONS[2])
        cond = self._env.conditions(self._now())
        if uv:
            counts = uvs_counts_for(near_uv_of(cond.lux, cond.lamp, cond.uva_w_per_m2), gain, bits)
        else:
            counts = als_counts_for(cond.lux, gain, int_factor)
        counts += self._rng.gauss(0.0, math.sqrt(max(counts, 0.0)) * 0.05 + DARK_NOISE_COUNTS)
        return int(min(max(round(counts), 0), 2**bits - 1))

    def write(self, data: bytes) -> None:
        self._pointer = data[0]
        for i, value in enumerate(data[1:]):
            self._regs[(self._pointer + i) % len(self._regs)] = value
        if self._pointer == 0x00 and len(data) > 1 and data[1] & 0x10:  # software reset
            self._regs[0x00] = 0

    def read(self, length: int) -> bytes:
        self._regs[0x07] = 0x00 if self.stalled else 0x08
        if self._pointer in (0x0D, 0x10):
            # The mode bit selects which channel converts; the other register holds its last value.
            uv = bool(self._regs[0x00] & 0x08)
            if uv == (self._pointer == 0x10):
                self._regs[self._pointer : self._pointer + 3] = self._counts(uv).to_bytes(3, "little")
        return bytes(self._regs[(self._pointer + i) % len(self._regs)] for i in range(length))
