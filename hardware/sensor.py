"""The small sensor interface every driver implements: real (Adafruit via Blinka), emulated, simulated.

A sensor returns one sample per call, in SI-ish units named in the field (``lux``, ``celsius``), or raises a
:class:`hardware.errors.SensorError`. It never returns a made-up number: a saturated light reading comes back
with ``saturated=True`` and ``lux`` as a lower bound, so the dose model can bound what it did not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SpectralSample:
    """What a spectral or UV chip saw beside the lux: its channels' raw counts, as read.

    ``channels`` names each count (``"F1_415"``, ``"uvs"``); ``gain`` and ``integration_ms`` are the
    settings they were taken at (a chip that ranges its UV channel apart from its lux channel reports the
    UV settings here). ``saturated`` is true when a channel reached the ADC's full scale at the least
    sensitive setting: the channel ratios are then untrustworthy. ``near_uv_w_per_m2`` is the chip's
    estimate of the 300-400 nm irradiance where it has a UV channel (LTR390), else ``None``.
    """

    chip: str
    channels: tuple[str, ...]
    counts: tuple[int, ...]
    gain: float
    integration_ms: float
    saturated: bool = False
    near_uv_w_per_m2: float | None = None


@dataclass(frozen=True, slots=True)
class LightSample:
    """One illuminance measurement.

    ``lux`` is the best estimate; when ``saturated`` is true the chip overflowed at its least sensitive
    setting and the true illuminance is *at least* ``lux``. ``raw_counts`` are the chip's channel counts as
    read (e.g. TSL2591 ``(full, ir)``), with the ``gain`` and ``integration_ms`` they were taken at, so a
    reading can be re-derived or audited later. Simulated sensors with no chip leave them empty.
    ``spectrum`` holds a spectral or UV chip's channel counts (AS7341, LTR390); ``None`` for the others.
    """

    lux: float
    saturated: bool = False
    raw_counts: tuple[int, ...] = ()
    gain: float | None = None
    integration_ms: float | None = None
    spectrum: SpectralSample | None = None


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
