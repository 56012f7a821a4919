"""Per-sensor calibration: ``corrected = gain · raw + offset``, applied after conversion."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Calibration:
    offset: float = 0.0
    gain: float = 1.0

    def apply(self, value: float) -> float:
        return self.gain * value + self.offset
