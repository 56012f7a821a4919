"""DS18B20 as the Linux w1_therm driver presents it: the scratchpad and its Dallas CRC, as ``w1_slave`` text.

The scratchpad is 9 bytes: temperature LSB/MSB (12-bit, 1/16 °C, two's complement), TH, TL, configuration
(0x7F: 12-bit), 0xFF, reserved, 0x10, CRC-8 (Dallas/Maxim, polynomial x⁸+x⁵+x⁴+1, reflected 0x8C).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hardware.environment import Environment

NOISE_CELSIUS = 0.03


def dallas_crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 0x01
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def w1_slave_text(raw: int, corrupt: bool = False) -> str:
    """The kernel's two-line ``w1_slave`` for a 16-bit temperature register value ``raw``."""
    pad = bytearray((raw & 0xFF, (raw >> 8) & 0xFF, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10))
    pad.append(dallas_crc8(bytes(pad)))
    if corrupt:
        pad[0] ^= 0x01  # one flipped bit on the wire: the CRC no longer matches
    ok = dallas_crc8(bytes(pad[:8])) == pad[8]
    hexes = " ".join(f"{b:02x}" for b in pad)
    signed = raw - 0x10000 if raw & 0x8000 else raw
    millidegrees = signed * 1000 // 16
    return f"{hexes} : crc={pad[8]:02x} {'YES' if ok else 'NO'}\n{hexes} t={millidegrees}\n"


class Ds18b20Chip:
    def __init__(self, environment: Environment, now: Callable[[], float], seed: int = 0) -> None:
        self._env = environment
        self._now = now
        self._rng = random.Random(seed)
        self.corrupt_next = 0  # number of reads to come back with a failed CRC
        self.power_on_value = False  # report the 85.0 °C power-on register value

    def w1_slave(self) -> str:
        if self.power_on_value:
            return w1_slave_text(85 * 16)
        celsius = self._env.conditions(self._now()).celsius + self._rng.gauss(0.0, NOISE_CELSIUS)
        corrupt = self.corrupt_next > 0
        self.corrupt_next = max(self.corrupt_next - 1, 0)
        return w1_slave_text(round(celsius * 16) & 0xFFFF, corrupt=corrupt)


class EmulatedW1:
    """A 1-Wire bus of emulated probes, serving their sysfs text like :class:`hardware.w1.SysfsW1`."""

    def __init__(self, chips: dict[str, Ds18b20Chip] | None = None) -> None:
        self.chips = dict(chips or {})
        self.unplugged: set[str] = set()

    def devices(self) -> list[str]:
        return sorted(set(self.chips) - self.unplugged)

    def read_text(self, device_id: str, name: str) -> str:
        chip = self.chips.get(device_id)
        if chip is None or device_id in self.unplugged:
            raise FileNotFoundError(2, "No such file or directory", f"/sys/bus/w1/devices/{device_id}/{name}")
        if name != "w1_slave":
            raise FileNotFoundError(2, "No such file or directory", name)
        return chip.w1_slave()
