"""BH1750 ambient light sensor: opcodes only, a 2-byte big-endian result, ``lux = raw / 1.2`` (halved in
high-resolution mode 2). Range at the driver's fixed measurement time: 65535 counts, so 54.6 klx in
high-resolution mode and 27.3 klx in mode 2.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hardware.environment import Environment

MAX_COUNTS = 65535


class Bh1750Chip:
    def __init__(self, environment: Environment, now: Callable[[], float], seed: int = 0) -> None:
        self._env = environment
        self._now = now
        self._rng = random.Random(seed)
        self._mode = 0x10  # continuous, high resolution
        self.frozen_counts: int | None = None

    def write(self, data: bytes) -> None:
        opcode = data[0]
        if opcode & 0xF0 in (0x10, 0x20):  # a measurement mode
            self._mode = opcode

    def read(self, length: int) -> bytes:
        if self.frozen_counts is not None:
            raw = self.frozen_counts
        else:
            counts_per_lux = 1.2 * (2.0 if self._mode & 0x03 == 0x01 else 1.0)
            lux = self._env.conditions(self._now()).lux
            raw = min(max(round(lux * counts_per_lux + self._rng.gauss(0.0, 0.4)), 0), MAX_COUNTS)
        return raw.to_bytes(2, "big")[:length]
