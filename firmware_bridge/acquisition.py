"""The acquisition loop: poll each sensor at its interval, timestamp, batch, hand batches to a sink.

One thread does all bus IO (``adafruit_register`` shares a module-global buffer). A failed read becomes a
:class:`monitor.batch.SensorFault` in the batch and the loop goes on; the failing sensor is retried with
exponential backoff, and its going down and coming back are each logged once. A batch the store could not
take stays in memory and is retried with the next one: readings are never dropped on a database error.

With a spool (:mod:`monitor.store.spool`) the loop appends what it took to the spool every
``batch_seconds`` (the most a crash can lose) and commits to the database every ``commit_seconds`` (fewer,
larger commits: an SD card is written whole pages at a time). Without one, it commits every batch window.

Readings are stamped from the monotonic clock plus the wall clock's offset to it, checked at every poll: a
step of the wall clock (NTP fixing a Pi that booted with a stale time) changes the offset, and is recorded as
a clock jump. While the kernel says the clock is not synchronised (``time_sync``), readings are held (and
spooled), not committed, for up to ``hold_unsynchronised_seconds``: a step seen meanwhile re-stamps them, so
they reach the database on the corrected time. Past that they are committed as stamped; the
``clock-unsynchronised`` alert says so until synchronisation is confirmed.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field, replace
from typing import Protocol

from hardware.clock import Clock
from hardware.errors import HardwareError, SensorOutOfRange
from hardware.sd_notify import Watchdog
from hardware.sensor import LightSample, LightSensor, SpectralSample, TemperatureSample, TemperatureSensor
from hardware.timesync import TimeSync
from monitor.batch import (
    Batch,
    BatchSink,
    DataGap,
    IngestResult,
    LightReading,
    SensorFault,
    TemperatureReading,
)
from monitor.config import BridgeConfig
from monitor.errors import StoreError
from monitor.model.quantities import Quantity
from monitor.model.spectral import SpectralCounts
from monitor.plausibility import Limits
from monitor.store.health import Heartbeat
from monitor.store.spool import Spool
from monitor.timekeeping import ClockJump, ClockReport

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
MAX_BATCH_READINGS = 20_000  # flush early when a fast simulation fills a batch
_NOTHING_SPOOLED = (0, 0, 0, 0, 0)
# A change of the wall clock's offset to the monotonic clock larger than this between two polls is a step.
# NTP slews by at most 0.5 ms a second; a step is what it does past 128 ms, and a boot-time fix is hours.
CLOCK_STEP_SECONDS = 1.0


class BatchSource(Protocol):
    """Readings that arrive by themselves (a serial microcontroller) rather than by polling a sensor."""

    def poll(self, batch: Batch) -> int:
        """Add what has arrived to ``batch`` without blocking; returns how many items were added."""
        ...

    def committed(self) -> None:
        """The batch holding what :meth:`poll` added is committed: acknowledge it."""
        ...

    def clock_stepped(self, step: float, *, restamped: bool) -> None:
        """The host's wall clock stepped by ``step`` seconds: date what arrives from now on by the new clock.
        ``restamped``: the readings held in the batch were moved by ``step`` too."""
        ...

    def close(self) -> None: ...


SOURCE_POLL_SECONDS = 0.02  # how often arriving data is read when there are sources


class SampleTime:
    """The instant the loop is sampling; simulated sensors read their environment at it."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def __call__(self) -> float:
        return self.value


@dataclass
class ScheduledSensor:
    key: str
    sensor: LightSensor | TemperatureSensor
    interval_seconds: float
    next_due: float = 0.0  # on the clock's monotonic scale
    failures: int = 0
    # Decided once: a runtime Protocol check walks the protocol's members, which cost more than the
    # sensor read itself when repeated at every sample.
    light: LightSensor | None = field(init=False, default=None)
    temperature: TemperatureSensor | None = field(init=False, default=None)
    # The range its readings are held to (monitor/plausibility.py); default: its chip's, uncalibrated.
    limits: InitVar[Limits | None] = None
    bounds: Limits = field(init=False)
    # The (gain, integration time) pairs found possible: a chip reports one of a few settings, read after
    # read, and looking each up again cost more than the rest of the check.
    _possible_settings: set[tuple[float | None, float | None]] = field(init=False, default_factory=set)

    def __post_init__(self, limits: Limits | None) -> None:
        if isinstance(self.sensor, LightSensor):
            self.light = self.sensor
        else:
            self.temperature = self.sensor
        quantity: Quantity = "light" if self.light is not None else "temperature"
        self.bounds = limits if limits is not None else Limits.of(self.sensor.model, quantity)

    def light_problem(self, lux: float, gain: float | None, integration_ms: float | None) -> str | None:
        """Why this light reading cannot be true (:meth:`Limits.light`), or ``None`` when it can."""
        settings = (gain, integration_ms)
        if settings in self._possible_settings:
            return self.bounds.light(lux, None, None)  # the value alone: its settings are known possible
        problem = self.bounds.light(lux, gain, integration_ms)
        if problem is None:
            self._possible_settings.add(settings)
        return problem


def _spectrum(sample: SpectralSample | None) -> SpectralCounts | None:
    """A spectral chip's channels, handed to the engine in the model's own type."""
    if sample is None:
        return None
    return SpectralCounts(
        sample.chip,
        sample.channels,
        sample.counts,
        sample.gain,
        sample.integration_ms,
        sample.saturated,
        sample.near_uv_w_per_m2,
    )


def _refuse_impossible(s: ScheduledSensor, problem: str | None) -> None:
    """A value its chip cannot report is refused at the entry, as the drivers refuse theirs."""
    if problem is not None:
        raise SensorOutOfRange(f"{s.sensor.model} {s.key}: {problem}")


@dataclass(frozen=True, slots=True)
class AcquisitionSettings:
    """How the loop batches and commits.

    ``batch_seconds``: a batch is handed on (or, with a spool, spooled) this often, in real time.
    ``commit_seconds``: with a spool, batches are committed this often instead (None: every batch).
    ``hold_unsynchronised_seconds``: how long readings wait for an unsynchronised clock.
    ``stamp_at_due_time``: simulated sensors are sampled *at* their due instant (published through the
    loop's ``sample_time``), so a fast time-warp run is gap-free and deterministic; real sensors are
    stamped with the wall clock when read.
    """

    batch_seconds: float = 2.0
    commit_seconds: float | None = None
    hold_unsynchronised_seconds: float = 300.0
    stamp_at_due_time: bool = False

    @classmethod
    def of(cls, bridge: BridgeConfig, *, stamp_at_due_time: bool = False) -> AcquisitionSettings:
        """The settings of the site's ``[bridge]`` section."""
        return cls(
            batch_seconds=bridge.batch_seconds,
            commit_seconds=bridge.commit_seconds,
            hold_unsynchronised_seconds=bridge.unsynchronised_hold_seconds,
            stamp_at_due_time=stamp_at_due_time,
        )


class AcquisitionLoop:
    """Polls sensors on ``clock`` and hands a batch to ``sink`` every ``settings.batch_seconds`` of real
    time (``real_monotonic``; ``real_wall`` dates the heartbeat)."""

    def __init__(
        self,
        sensors: list[ScheduledSensor],
        clock: Clock,
        sink: BatchSink,
        settings: AcquisitionSettings | None = None,
        *,
        sample_time: SampleTime | None = None,
        sources: list[BatchSource] | None = None,
        spool: Spool | None = None,
        time_sync: TimeSync | None = None,
        watchdog: Watchdog | None = None,
        real_monotonic: Callable[[], float] = time.monotonic,
        real_wall: Callable[[], float] = time.time,
    ) -> None:
        settings = settings or AcquisitionSettings()
        self.sensors = sensors
        self.clock = clock
        self.sink = sink
        self.batch_seconds = settings.batch_seconds
        self.stamp_at_due_time = settings.stamp_at_due_time
        self.sample_time = sample_time or SampleTime()
        self._real_monotonic = real_monotonic
        self._real_wall = real_wall
        self._batch = Batch()
        self.spool = spool
        commit = settings.commit_seconds
        self.commit_seconds = self.batch_seconds if spool is None or commit is None else commit
        # How many light, temperature, fault, gap and frame entries of the batch are spooled, and the
        # refusal totals last spooled (a line with no readings is still written when those change).
        self._spooled = _NOTHING_SPOOLED
        self._spooled_rejects: dict[tuple[str, str], int] = {}
        self._last_spool = -math.inf
        self._spool_failing = False
        self.time_sync = time_sync
        self._sync_unknown = False  # the last question failed: logged once, on the edge
        self.hold_unsynchronised_seconds = settings.hold_unsynchronised_seconds
        self._synchronised = self._ask_synchronised()
        self._holding = not self._synchronised
        self._held_since: float | None = None
        self._hold_expired = False
        self._jumps: list[ClockJump] = []
        # The first poll is flushed at once: whoever just started the bridge (or systemd restarted it)
        # sees the readings in the API within a second, not a batch window later.
        self._last_flush = -math.inf
        self._wall_offset = clock.wall() - clock.monotonic()
        start = clock.monotonic()
        for s in sensors:
            s.next_due = start
        self.last_result: IngestResult | None = None
        self.sources = sources or []
        self.watchdog = watchdog

    # -- sampling ------------------------------------------------------------------------------------

    def _stamp(self, due: float) -> float:
        return (due if self.stamp_at_due_time else self.clock.monotonic()) + self._wall_offset

    # -- the wall clock ------------------------------------------------------------------------------

    def _ask_synchronised(self) -> bool:
        """The time source's answer; one that cannot answer is taken as "not", and logged on its edges
        (once when it fails, once when it answers again), never at every commit."""
        if self.time_sync is None:
            return True
        try:
            synced = self.time_sync.synchronised()
        except HardwareError as exc:
            if not self._sync_unknown:
                log.warning("cannot tell whether the clock is synchronised (%s); taking it as not", exc)
            self._sync_unknown = True
            return False
        if self._sync_unknown:
            log.info("clock synchronisation can be told again: %s", "synchronised" if synced else "not yet")
            self._sync_unknown = False
        return synced

    def check_clock(self) -> ClockJump | None:
        """Follow the wall clock's offset; a step is recorded, and re-stamps readings held for it."""
        offset = self.clock.wall() - self.clock.monotonic()
        step = offset - self._wall_offset
        self._wall_offset = offset  # a slew (small, gradual) is followed silently
        if abs(step) <= CLOCK_STEP_SECONDS:
            return None
        restamped = 0
        if self._holding and len(self._batch):
            b = self._batch
            self._batch = replace(
                b,
                light=[replace(r, ts=r.ts + step) for r in b.light],
                temperature=[replace(r, ts=r.ts + step) for r in b.temperature],
                faults=[replace(f, ts=f.ts + step) for f in b.faults],
                gaps=[replace(g, start_ts=g.start_ts + step, end_ts=g.end_ts + step) for g in b.gaps],
                frames=[replace(k, ts=k.ts + step) for k in b.frames],
            )
            restamped = len(self._batch)
            self._respool()
        elif step < 0:
            self._overlap(step)
        for source in self.sources:
            source.clock_stepped(step, restamped=restamped > 0)
        jump = ClockJump(self.clock.wall(), step, restamped)
        self._jumps.append(jump)
        log.warning("wall clock stepped by %+.3f s; %d held readings re-stamped", step, restamped)
        return jump

    def _overlap(self, step: float) -> None:
        """A backward step of a clock whose readings were committed as stamped: until it catches up, new
        readings take times already given to earlier ones, and which of the two sets is right (the clock
        was ahead for how long?) cannot be known. Each sensor gets a gap over those times, so the ledger
        adds nothing there and the potency bounds count it as time without data, rather than the two sets
        interleaved as if twice as many readings had been taken."""
        now = self.clock.wall()
        reason = f"wall clock stepped back {-step:.3f} s: times already given to earlier readings"
        for key in self.sink.sensor_keys:
            self._batch.gaps.append(DataGap(key, now, now - step, reason))

    def _respool(self) -> None:
        """The spool holds the held readings with their old stamps: write it again."""
        if self.spool is None:
            return
        try:
            self.spool.clear()
        except StoreError:
            log.warning("could not rewrite the spool after a clock step", exc_info=True)
            return
        self._spooled, self._spooled_rejects = _NOTHING_SPOOLED, {}
        self.write_spool()

    def _update_hold(self) -> bool:
        """Whether to keep holding readings: not synchronised, and not held too long already."""
        synced = self._synchronised = self._ask_synchronised()
        if synced:
            if self._holding and len(self._batch):
                log.info("clock synchronised: committing %d held readings", len(self._batch))
            self._held_since, self._hold_expired = None, False
        elif self._held_since is None:
            self._held_since = self._real_monotonic()
        elif not self._hold_expired and (
            self._real_monotonic() - self._held_since >= self.hold_unsynchronised_seconds
        ):
            log.warning(
                "clock still unsynchronised after %.0f s: committing readings as stamped",
                self.hold_unsynchronised_seconds,
            )
            self._hold_expired = True
        self._holding = not synced and not self._hold_expired and len(self._batch) < MAX_BATCH_READINGS
        return self._holding

    def _sample(self, s: ScheduledSensor, due: float) -> None:
        ts = self._stamp(due)
        self.sample_time.value = ts
        try:
            if s.light is not None:
                light: LightSample = s.light.read_light()
                _refuse_impossible(s, s.light_problem(light.lux, light.gain, light.integration_ms))
                self._batch.light.append(
                    LightReading(
                        s.key,
                        ts,
                        light.lux,
                        light.saturated,
                        light.raw_counts,
                        light.gain,
                        light.integration_ms,
                        _spectrum(light.spectrum),
                    )
                )
            elif s.temperature is not None:
                temp: TemperatureSample = s.temperature.read_temperature()
                _refuse_impossible(s, s.bounds.temperature(temp.celsius, temp.relative_humidity_percent))
                self._batch.temperature.append(
                    TemperatureReading(s.key, ts, temp.celsius, temp.relative_humidity_percent)
                )
        except HardwareError as exc:
            if s.failures == 0:
                log.warning("sensor %s went down: %s", s.key, exc)
            s.failures += 1
            self._batch.faults.append(SensorFault(s.key, ts, exc.kind, str(exc)))
            backoff = min(s.interval_seconds * 2 ** min(s.failures - 1, 16), MAX_BACKOFF_SECONDS)
            s.next_due = due + max(backoff, s.interval_seconds)
            return
        if s.failures:
            log.info("sensor %s recovered after %d failed reads", s.key, s.failures)
            s.failures = 0
        s.next_due = due + s.interval_seconds

    def poll_once(self) -> int:
        """Take every sample that is due now; returns how many were taken."""
        self.check_clock()
        now = self.clock.monotonic()
        taken = 0
        room = MAX_BATCH_READINGS - len(self._batch)  # each sample adds one reading or one fault
        for s in self.sensors:
            while s.next_due <= now and taken < room:
                self._sample(s, s.next_due)
                taken += 1
        for source in self.sources:
            taken += source.poll(self._batch)
        return taken

    # -- batching ------------------------------------------------------------------------------------

    def write_spool(self) -> None:
        """Append to the spool what was taken since the last append; a failure is logged on its edges and
        the readings stay in memory for the next commit."""
        self._last_spool = self._real_monotonic()
        if self.spool is None:
            return
        nl, nt, nf, ng, ns = self._spooled
        b = self._batch
        part = Batch(
            light=b.light[nl:],
            temperature=b.temperature[nt:],
            faults=b.faults[nf:],
            gaps=b.gaps[ng:],
            frames=b.frames[ns:],
            boots=dict(b.boots),
            serial_rejects=dict(b.serial_rejects),
        )
        if not (len(part) or part.gaps or part.frames) and part.serial_rejects == self._spooled_rejects:
            return  # nothing new; the boots' records change only with a frame
        try:
            self.spool.append(part)
        except StoreError:
            if not self._spool_failing:
                log.exception("cannot spool readings; they are kept in memory until the next commit")
            self._spool_failing = True
            return
        if self._spool_failing:
            log.info("spooling readings again")
            self._spool_failing = False
        self._spooled = (len(b.light), len(b.temperature), len(b.faults), len(b.gaps), len(b.frames))
        self._spooled_rejects = part.serial_rejects

    def due_for_spool(self) -> bool:
        return self.spool is not None and self._real_monotonic() - self._last_spool >= self.batch_seconds

    def flush(self, *, final: bool = False) -> IngestResult | None:
        """Hand the batch to the sink; on a store error keep it for the next attempt.

        ``final``: the bridge is stopping; readings held for an unsynchronised clock are committed as
        stamped rather than lost."""
        self._last_flush = self._real_monotonic()
        self.check_clock()  # a step just before synchronisation re-stamps the held readings first
        hold = self._update_hold() and not final
        now = self.clock.wall()
        batch = Batch() if hold else self._batch
        if self.time_sync is not None or self._jumps:
            batch.clock = ClockReport(self._synchronised, list(self._jumps))
        beat = Heartbeat(
            pid=os.getpid(),
            real_ts=self._real_wall(),
            sim_ts=now,
            readings_total=self.sink.readings_total + len(batch),
            # Readers see readings up to a commit window late (spooled between commits); plus one batch.
            report_lag_seconds=(self.commit_seconds + self.batch_seconds) * _clock_speed(self.clock),
        )
        try:
            result = self.sink.ingest(batch, now, beat)
        except StoreError:
            log.exception("batch of %d readings kept in memory for retry", len(self._batch))
            return None
        self._jumps = []
        if hold:
            self.last_result = result
            return result
        self._batch = Batch()
        self._spooled, self._spooled_rejects = _NOTHING_SPOOLED, {}
        if self.spool is not None:
            try:
                self.spool.clear()
            except StoreError:
                # Harmless: a replay drops what the database already holds.
                log.warning("could not empty the spool after a commit", exc_info=True)
        self.last_result = result
        for source in self.sources:
            source.committed()
        return result

    @property
    def unflushed(self) -> int:
        """Readings and faults taken but not yet committed."""
        return len(self._batch)

    def due_for_flush(self) -> bool:
        return (
            self._real_monotonic() - self._last_flush >= self.commit_seconds
            or len(self._batch) >= MAX_BATCH_READINGS
        )

    def run(self, stop: threading.Event) -> None:
        """Poll and flush until ``stop`` is set; then flush what is left."""
        # Sleep until the next reading is due, but no longer than a batch window: each wake-up costs CPU
        # on a Pi all day. SIGTERM's handler sets ``stop``, which ends the wait at once, so systemd's stop
        # is answered within a flush, whatever the batch window.
        longest_wait = self.batch_seconds
        if self.sources:  # a serial port is read often so its small buffer never fills
            longest_wait = min(longest_wait, SOURCE_POLL_SECONDS)
        if self.watchdog is not None:  # systemd's watchdog wants a ping within its period
            longest_wait = min(longest_wait, self.watchdog.wake_seconds)
        longest_wait *= _clock_speed(self.clock)  # in the clock's seconds
        try:
            while not stop.is_set():
                taken = self.poll_once()
                if self.due_for_flush():
                    self.flush()
                elif self.due_for_spool():
                    self.write_spool()
                if self.watchdog is not None:  # after the commit: a hung database stops the pings
                    self.watchdog.ping()
                if self.sources and taken:
                    continue  # frames are arriving: more are likely waiting, read on before sleeping
                now = self.clock.monotonic()
                next_due = min((s.next_due for s in self.sensors), default=now + 1.0)
                wait = min(next_due - now, longest_wait)
                if wait > 0:
                    self.clock.wait(stop, wait)
        finally:
            self.flush(final=True)
            for source in self.sources:
                source.close()


def _clock_speed(clock: Clock) -> float:
    """How many clock seconds pass per real second (1 unless the clock is a warp clock)."""
    return float(getattr(clock, "speed", 1.0))
