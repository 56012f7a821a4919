"""MCP9808 digital temperature sensor (±0.25 °C typical, ±0.5 °C max from −20 to 100 °C), as registers.

Registers (16-bit, big-endian): CONFIG 0x01, limits 0x02-0x04, T_A 0x05 (13-bit two's complement in
1/16 °C, bits 15:13 alert flags), MANUFACTURER_ID 0x06 = 0x0054, DEVICE_ID 0x07 = 0x04xx, RESOLUTION 0x08.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hardware.environment import Environment

NOISE_CELSIUS = 0.02


def encode_celsius(celsius: float) -> bytes:
    """T_A register bytes for ``celsius`` (resolution 0.0625 °C)."""
    raw = round(celsius * 16.0) & 0x1FFF
    return bytes(((raw >> 8) & 0x1F, raw & 0xFF))


class Mcp9808Chip:
    def __init__(self, environment: Environment, now: Callable[[], float], seed: int = 0) -> None:
        self._env = environment
        self._now = now
        self._rng = random.Random(seed)
        self._regs: dict[int, bytes] = {
            0x01: b"\x00\x00",
            0x02: b"\x00\x00",
            0x03: b"\x00\x00",
            0x04: b"\x00\x00",
            0x06: b"\x00\x54",
            0x07: b"\x04\x00",
            0x08: b"\x03",
        }
        self._pointer = 0x05
        self.frozen_raw: bytes | None = None
        self.celsius_override: float | None = None

    def write(self, data: bytes) -> None:
        self._pointer = data[0] & 0x0F
        if len(data) > 1:
            self._regs[self._pointer] = bytes(data[1:])

    def read(self, length: int) -> bytes:
        if self._pointer == 0x05:
            if self.frozen_raw is not None:
                return self.frozen_raw[:length]
            celsius = self._env.conditions(self._now()).celsius
            if self.celsius_override is not None:
                celsius = self.celsius_override
            return encode_celsius(celsius + self._rng.gauss(0.0, NOISE_CELSIUS))[:length]
        return self._regs.get(self._pointer, b"\x00\x00")[:length]
