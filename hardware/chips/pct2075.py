"""PCT2075 temperature sensor: Temp register 0x00, 11-bit two's complement in the top bits, 0.125 °C/LSB."""

from __future__ import annotations

import random
from collections.abc import Callable

from hardware.environment import Environment


class Pct2075Chip:
    def __init__(self, environment: Environment, now: Callable[[], float], seed: int = 0) -> None:
        self._env = environment
        self._now = now
        self._rng = random.Random(seed)
        self._regs = {0x01: b"\x00", 0x02: b"\x4b\x00", 0x03: b"\x50\x00", 0x04: b"\x00"}
        self._pointer = 0x00
        self.celsius_override: float | None = None

    def write(self, data: bytes) -> None:
        self._pointer = data[0] & 0x07
        if len(data) > 1:
            self._regs[self._pointer] = bytes(data[1:])

    def read(self, length: int) -> bytes:
        if self._pointer == 0x00:
            celsius = self._env.conditions(self._now()).celsius + self._rng.gauss(0.0, 0.02)
            if self.celsius_override is not None:
                celsius = self.celsius_override
            raw = (round(celsius / 0.125) << 5) & 0xFFFF
            return raw.to_bytes(2, "big")[:length]
        return self._regs.get(self._pointer, b"\x00\x00")[:length]
