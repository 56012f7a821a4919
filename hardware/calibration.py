"""Per-sensor calibration: ``corrected = gain · raw + offset``, applied after conversion."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Calibration:
    offset: float = 0.0
    gain: float = 1.0
    # A UV channel's 300-400 nm irradiance (W/m²) per UV index, measured against a UV radiometer; None: the
    # driver's assumed figure.
    near_uv_w_per_m2_per_uvi: float | None = None

    def apply(self, value: float) -> float:
        return self.gain * value + self.offset
