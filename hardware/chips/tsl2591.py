"""TSL2591 light-to-digital converter, as registers.

Registers (command byte ``0xA0 | reg``): ENABLE 0x00, CONTROL 0x01 (gain bits 5:4, integration bits 2:0),
DEVICE_ID 0x12 = 0x50, C0 (full spectrum) 0x14-0x15 and C1 (infrared) 0x16-0x17, little-endian.

The Adafruit driver converts counts with ``CPL = ATIME_ms · AGAIN / 408`` and
``lux = max((C0 − 1.64·C1)/CPL, (0.59·C0 − 0.86·C1)/CPL)``; with ``C1 = r·C0`` (``r`` the lamp's infrared
share) this model inverts it as ``C0 = lux · CPL / max(1 − 1.64 r, 0.59 − 0.86 r)``. Counts saturate at the
ADC's ceiling: 36863 at 100 ms, 65535 otherwise (datasheet; the driver raises on reaching them).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from hardware.environment import Environment

GAINS = {0x00: 1.0, 0x10: 25.0, 0x20: 428.0, 0x30: 9876.0}
LUX_DF = 408.0
DEVICE_ID = 0x50
MAX_COUNT_100MS = 36863
MAX_COUNT = 65535
DARK_NOISE_COUNTS = 0.3  # standard deviation of the count noise with no light


def counts_for(lux: float, ir_fraction: float, gain: float, integration_ms: float) -> tuple[float, float]:
    """The (C0, C1) a TSL2591 reports for ``lux`` under a lamp with infrared share ``ir_fraction``."""
    cpl = integration_ms * gain / LUX_DF
    per_count = max(1.0 - 1.64 * ir_fraction, 0.59 - 0.86 * ir_fraction)
    c0 = lux * cpl / per_count
    return c0, c0 * ir_fraction


class Tsl2591Chip:
    def __init__(self, environment: Environment, now: Callable[[], float], seed: int = 0) -> None:
        self._env = environment
        self._now = now
        self._rng = random.Random(seed)
        self._regs = bytearray(32)
        self._regs[0x12] = DEVICE_ID
        self._pointer = 0
        self._latched_c1 = 0
        self.frozen_counts: tuple[int, int] | None = None  # set to freeze C0, C1
        self.lux_override: float | None = None  # set to report another illuminance

    def _measure(self) -> tuple[int, int]:
        if self.frozen_counts is not None:
            return self.frozen_counts
        control = self._regs[0x01]
        gain = GAINS[control & 0x30]
        integration_ms = 100.0 * ((control & 0x07) + 1)
        cond = self._env.conditions(self._now())
        lux = cond.lux if self.lux_override is None else self.lux_override
        c0, c1 = counts_for(lux, cond.ir_fraction, gain, integration_ms)
        ceiling = MAX_COUNT_100MS if integration_ms == 100.0 else MAX_COUNT
        # Shot noise (√N) plus a small dark-count noise; C0's draw first, then C1's. Written out rather than
        # as comprehensions: this runs once a second all day, mostly with cold caches.
        gauss = self._rng.gauss
        n0 = c0 + gauss(0.0, math.sqrt(max(c0, 0.0)) * 0.05 + DARK_NOISE_COUNTS)
        n1 = c1 + gauss(0.0, math.sqrt(max(c1, 0.0)) * 0.05 + DARK_NOISE_COUNTS)
        return min(max(round(n0), 0), ceiling), min(max(round(n1), 0), ceiling)

    def write(self, data: bytes) -> None:
        command = data[0]
        if command & 0xE0 == 0xE0:  # special function (interrupt clear): nothing to model
            return
        self._pointer = command & 0x1F
        for i, value in enumerate(data[1:]):
            self._regs[(self._pointer + i) & 0x1F] = value

    def read(self, length: int) -> bytes:
        if self._pointer == 0x14:
            c0, c1 = self._measure()
            self._latched_c1 = c1  # the driver reads C1 next: same integration cycle
            return c0.to_bytes(2, "little")[:length]
        if self._pointer == 0x16:
            return self._latched_c1.to_bytes(2, "little")[:length]
        return bytes(self._regs[(self._pointer + i) & 0x1F] for i in range(length))
