"""The small sensor interface every driver implements: real (Adafruit via Blinka), emulated, simulated.

A sensor returns one sample per call, in SI-ish units named in the field (``lux``, ``celsius``), or raises a
:class:`hardware.errors.SensorError`. It never returns a made-up number: a saturated light reading comes back
with ``saturated=True`` and ``lux`` as a lower bound, so the dose model can bound what it did not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class LightSample:
    """One illuminance measurement.

    ``lux`` is the best estimate; when ``saturated`` is true the chip overflowed at its least sensitive
    setting and the true illuminance is *at least* ``lux``. ``raw_counts`` are the chip's channel counts as
    read (e.g. TSL2591 ``(full, ir)``), with the ``gain`` and ``integration_ms`` they were taken at, so a
    reading can be re-derived or audited later. Simulated sensors with no chip leave them empty.
    """

    lux: float
    saturated: bool = False
    raw_counts: tuple[int, ...] = ()
    gain: float | None = None
    integration_ms: float | None = None


@dataclass(frozen=True, slots=True)
class TemperatureSample:
    """One temperature measurement, with relative humidity where the chip has it (SHT4x)."""

    celsius: float
    relative_humidity_percent: float | None = None


@runtime_checkable
class LightSensor(Protocol):
    """Anything that measures illuminance at the vials."""

    @property
    def model(self) -> str:
        """Short chip or driver name for logs and the API (``"tsl2591"``, ``"simulated"``)."""
        ...

    def read_light(self) -> LightSample:
        """Take one measurement; raise :class:`hardware.errors.SensorError` when none can be trusted."""
        ...


@runtime_checkable
class TemperatureSensor(Protocol):
    """Anything that measures temperature beside the vials."""

    @property
    def model(self) -> str:
        """Short chip or driver name for logs and the API (``"ds18b20"``, ``"simulated"``)."""
        ...

    def read_temperature(self) -> TemperatureSample:
        """Take one measurement; raise :class:`hardware.errors.SensorError` when none can be trusted."""
        ...
