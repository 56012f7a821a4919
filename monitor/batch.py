"""What the bridge hands the engine: readings, faults and gaps, and the serial frames they came in, as one
batch that commits whole or not at all (:meth:`monitor.engine.Engine.ingest`).

Defined once, apart from the engine, so that what produces or keeps a batch (the acquisition loop, the
serial source, the spool) depends on these types and not on the engine's write side. A batch goes to a
:class:`BatchSink`: the engine in the bridge, a :class:`RecordingSink` in tests of what feeds one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from monitor import timekeeping
from monitor.model.spectral import SpectralCounts
from monitor.store import serial_links
from monitor.store.health import Heartbeat


@dataclass(frozen=True, slots=True)
class LightReading:
    sensor_key: str
    ts: float
    lux: float
    saturated: bool = False
    raw_counts: tuple[int, ...] = ()
    gain: float | None = None
    integration_ms: float | None = None
    spectrum: SpectralCounts | None = None  # a spectral or UV chip's channels (AS7341, LTR390)


@dataclass(frozen=True, slots=True)
class TemperatureReading:
    sensor_key: str
    ts: float
    celsius: float
    relative_humidity_percent: float | None = None


@dataclass(frozen=True, slots=True)
class SensorFault:
    """A failed read; ``kind`` names the failure (``unavailable``, ``out-of-range``, ``frozen``...)."""

    sensor_key: str
    ts: float
    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class DataGap:
    """An interval of a sensor's series known to have lost readings: the ledger adds nothing across it."""

    sensor_key: str
    start_ts: float
    end_ts: float
    reason: str


@dataclass
class Batch:
    light: list[LightReading] = field(default_factory=list)
    temperature: list[TemperatureReading] = field(default_factory=list)
    faults: list[SensorFault] = field(default_factory=list)
    gaps: list[DataGap] = field(default_factory=list)
    # Serial frames the readings came in, and per device boot its state: committed with the readings.
    frames: list[serial_links.FrameKey] = field(default_factory=list)
    boots: dict[tuple[str, str], serial_links.BootRecord] = field(default_factory=dict)
    # Serial input refused or set aside since the last batch, by (port URL, kind): committed as totals.
    serial_rejects: dict[tuple[str, str], int] = field(default_factory=dict)
    clock: timekeeping.ClockReport | None = None  # the wall clock's state and steps, from the bridge

    def __len__(self) -> int:
        return len(self.light) + len(self.temperature) + len(self.faults)

    def empty(self) -> bool:
        """Nothing to commit: no readings, faults, gaps, serial frames or refusal counts."""
        return not (len(self) or self.gaps or self.frames or self.serial_rejects)


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What a sink did with a batch: rows stored, readings refused as out of order, gaps found, alert
    changes made."""

    stored: int
    rejected_out_of_order: int
    gaps: int
    alert_changes: int


class BatchSink(Protocol):
    """Where batches go: the engine (:class:`monitor.engine.Engine`), or a :class:`RecordingSink`."""

    @property
    def sensor_keys(self) -> Collection[str]:
        """Every sensor the sink takes readings of."""
        ...

    @property
    def readings_total(self) -> int:
        """Readings stored so far, for the heartbeat."""
        ...

    def ingest(self, batch: Batch, now: float, heartbeat: Heartbeat | None = None) -> IngestResult:
        """Take ``batch`` whole, as of ``now`` (the clock that stamps readings), with the bridge's
        ``heartbeat``; a batch it could not keep raises :class:`monitor.errors.StoreError`."""
        ...


class RecordingSink:
    """A :class:`BatchSink` that keeps what it is handed: the batches, their ``now`` and heartbeats.

    For tests of what feeds a sink (the acquisition loop, a serial source); the engine behind the real
    sink has tests of its own. Every reading counts as stored."""

    def __init__(self, sensor_keys: Iterable[str] = ()) -> None:
        self.sensor_keys: tuple[str, ...] = tuple(sensor_keys)
        self.readings_total = 0
        self.batches: list[Batch] = []
        self.times: list[float] = []
        self.heartbeats: list[Heartbeat | None] = []

    def ingest(self, batch: Batch, now: float, heartbeat: Heartbeat | None = None) -> IngestResult:
        self.batches.append(batch)
        self.times.append(now)
        self.heartbeats.append(heartbeat)
        stored = len(batch.light) + len(batch.temperature)
        self.readings_total += stored
        return IngestResult(stored, 0, 0, 0)
