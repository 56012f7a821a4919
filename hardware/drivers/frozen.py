"""Detecting a frozen sensor: identical raw counts, read after read, where noise is expected.

A healthy chip's counts jitter by at least one count when it sees anything; a chip whose conversion has
stalled returns the same register contents forever. Constant counts at or below ``noise_floor`` are
legitimate (a dark fridge reads 0 again and again), so only identical readings above the floor count.
"""

from __future__ import annotations

from hardware.errors import SensorFrozen


class FrozenDetector:
    def __init__(self, name: str, repeats: int = 30, noise_floor: int = 2) -> None:
        self._name = name
        self._repeats = repeats
        self._noise_floor = noise_floor
        self._last: tuple[int, ...] | None = None
        self._count = 0

    def check(self, raw: tuple[int, ...]) -> None:
        """Raise :class:`SensorFrozen` after ``repeats`` identical readings above the noise floor."""
        if raw == self._last and max(raw, default=0) > self._noise_floor:
            self._count += 1
        else:
            self._count = 0
        self._last = raw
        if self._count >= self._repeats:
            # A stable message: the fault is one condition, not a new one at every read.
            raise SensorFrozen(f"{self._name}: raw counts {raw} unchanged for {self._repeats + 1}+ reads")
