"""SHT4x humidity and temperature sensor: commands, then 6 bytes (T, CRC, RH, CRC).

``T = −45 + 175·raw/65535``, ``RH = −6 + 125·raw/65535``; each word carries a Sensirion CRC-8 (polynomial
0x31, init 0xFF), which the driver checks: a corrupted transfer raises in the driver, never a wrong value.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hardware.environment import Environment


def sensirion_crc8(data: bytes) -> int:
    crc = 0xFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _word(value: int) -> bytes:
    raw = value.to_bytes(2, "big")
    return raw + bytes((sensirion_crc8(raw),))


class Sht4xChip:
    def __init__(self, environment: Environment, now: Callable[[], float], seed: int = 0) -> None:
        self._env = environment
        self._now = now
        self._rng = random.Random(seed)
        self._result = b"\x00" * 6
        self.corrupt_next = 0

    def write(self, data: bytes) -> None:
        command = data[0]
        if command == 0x89:  # serial number
            self._result = _word(0x1234) + _word(0x5678)
        elif command in (0xFD, 0xF6, 0xE0) or command & 0xF0 in (0x30, 0x20, 0x10):  # measure (± heater)
            c = self._env.conditions(self._now())
            celsius = c.celsius + self._rng.gauss(0.0, 0.01)
            rh = c.relative_humidity_percent + self._rng.gauss(0.0, 0.05)
            t_raw = min(max(round((celsius + 45.0) * 65535.0 / 175.0), 0), 0xFFFF)
            rh_raw = min(max(round((rh + 6.0) * 65535.0 / 125.0), 0), 0xFFFF)
            self._result = _word(t_raw) + _word(rh_raw)
            if self.corrupt_next:
                self.corrupt_next -= 1
                self._result = bytes((self._result[0] ^ 0x01,)) + self._result[1:]

    def read(self, length: int) -> bytes:
        return self._result[:length]
