"""VEML7700 ambient light sensor, as 16-bit little-endian registers.

ALS_CONF 0x00 (shutdown bit 0, integration time bits 9:6, gain bits 12:11), ALS 0x04, WHITE 0x05. The driver
converts ``lux = counts · 0.0042 · (800/IT_ms) · (2/gain)`` and, at gains 1/8 and 1/4, corrects the chip's
non-linearity with Vishay's polynomial; this model inverts both.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from hardware.environment import Environment

GAINS = {0x0: 1.0, 0x1: 2.0, 0x2: 0.125, 0x3: 0.25}
INTEGRATION_MS = {0xC: 25.0, 0x8: 50.0, 0x0: 100.0, 0x1: 200.0, 0x2: 400.0, 0x3: 800.0}
MAX_COUNTS = 65535


def resolution_lux_per_count(gain: float, integration_ms: float) -> float:
    return 0.0042 * (800.0 / integration_ms) * (2.0 / gain)


def corrected(lux: float) -> float:
    """Vishay's non-linearity correction, as the Adafruit driver applies it."""
    return (((6.0135e-13 * lux - 9.3924e-9) * lux + 8.1488e-5) * lux + 1.0023) * lux


def uncorrected(true_lux: float) -> float:
    """The linear lux whose correction is ``true_lux`` (Newton's method; the polynomial is monotone here)."""
    x = true_lux
    for _ in range(30):
        f = corrected(x) - true_lux
        slope = ((4 * 6.0135e-13 * x - 3 * 9.3924e-9) * x + 2 * 8.1488e-5) * x + 1.0023
        step = f / slope
        x -= step
        if abs(step) < 1e-9 * max(true_lux, 1.0):
            break
    return x


class Veml7700Chip:
    def __init__(self, environment: Environment, now: Callable[[], float], seed: int = 0) -> None:
        self._env = environment
        self._now = now
        self._rng = random.Random(seed)
        self._regs = {0x00: 0x0001, 0x01: 0, 0x02: 0, 0x03: 0, 0x06: 0, 0x07: 0x0081}
        self._pointer = 0
        self.frozen_counts: int | None = None

    def _counts(self) -> int:
        if self.frozen_counts is not None:
            return self.frozen_counts
        conf = self._regs[0x00]
        if conf & 0x1:  # shut down: no new conversions
            return 0
        gain = GAINS[(conf >> 11) & 0x3]
        integration_ms = INTEGRATION_MS[(conf >> 6) & 0xF]
        lux = self._env.conditions(self._now()).lux
        linear = uncorrected(lux) if gain <= 0.25 else lux
        counts = linear / resolution_lux_per_count(gain, integration_ms)
        counts += self._rng.gauss(0.0, math.sqrt(max(counts, 0.0)) * 0.05 + 0.3)
        return min(max(round(counts), 0), MAX_COUNTS)

    def write(self, data: bytes) -> None:
        self._pointer = data[0]
        if len(data) >= 3:
            self._regs[self._pointer] = data[1] | (data[2] << 8)

    def read(self, length: int) -> bytes:
        value = self._counts() if self._pointer in (0x04, 0x05) else self._regs.get(self._pointer, 0)
        return value.to_bytes(2, "little")[:length]
