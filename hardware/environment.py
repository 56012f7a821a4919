"""What a sensor would see: the physical conditions at the vials at a given instant.

The simulated fridge produces these; emulated chips turn them into raw register counts by inverting each
chip's conversion, so the genuine Adafruit drivers read them back through their own arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Conditions:
    """Physical conditions at one instant.

    ``ir_fraction`` is the infrared share of a broadband photodiode's response (TSL2591 channel 1 over
    channel 0), which depends on the lamp; ``uva_w_per_m2``, when above 0, is the near-UV (300-400 nm)
    irradiance a UV chip sees in place of what the lamp's spectrum gives (:mod:`hardware.spectra`).
    ``lamp`` names the light source (``"led-4000k"``, ``"fluorescent"``, ``"dark"``) so a spectral chip
    emulator can shape its channels.
    """

    lux: float
    celsius: float
    relative_humidity_percent: float = 50.0
    ir_fraction: float = 0.1
    uva_w_per_m2: float = 0.0
    lamp: str = "led-4000k"


class Environment(Protocol):
    """A source of conditions over (wall-clock) time."""

    def conditions(self, wall_seconds: float) -> Conditions:
        """The conditions at ``wall_seconds`` (UTC epoch seconds)."""
        ...
