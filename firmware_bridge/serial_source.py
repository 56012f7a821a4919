"""Readings from a microcontroller over serial: frames in, batch rows out, acknowledgements after commit.

The port is opened by URL with ``serial.serial_for_url`` and opened again after the device vanishes (an
unplugged cable raises ``SerialException``); each time it opens, the host sends a query and the device
answers with a hello and every frame it still holds. Protocol: ``docs/serial-protocol.md``.

The source runs on the acquisition loop's thread: :meth:`SerialSource.poll` adds readings to the loop's
batch together with the frame keys and each boot's state, which the engine commits in one transaction;
only then does :meth:`SerialSource.committed` acknowledge them. A frame already stored is recognised by
``(device_id, boot_id, seq)`` and never stored twice. Sequence numbers the device announces lost become a
:class:`monitor.batch.DataGap` for each of its sensors.

Bad input is counted by kind and logged once per run of that kind, never a line per frame.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from firmware_bridge import frames
from firmware_bridge.serial_link import SerialLink
from hardware.clock import Clock
from monitor.batch import Batch, DataGap, LightReading, SensorFault, TemperatureReading
from monitor.config import SerialSourceConfig
from monitor.model.quantities import Quantity
from monitor.plausibility import OUT_OF_RANGE, Limits
from monitor.store import serial_links
from monitor.store.serial_links import BootRecord, FrameKey

log = logging.getLogger(__name__)

READ_CHUNK = 65536
QUERY_INTERVAL_SECONDS = 1.0  # at most one query a second while frames arrive from an unknown boot
# Checks on frames whose CRC passed but whose numbers cannot be true (a CRC-16 lets one corrupted line in
# 65,536 through): a sequence number beyond what the sensors could have made, or a counter ahead of the
# host's clock by more than transit jitter and crystal drift allow. Either would cost data if believed:
# a number far ahead announces every frame before it lost, a counter far ahead shifts every later time.
SEQ_SLACK = 256  # frames beyond the inventory's rate still believed
CLOCK_AHEAD_MS = 10_000  # plus ...
CLOCK_AHEAD_PER_MS = 1e-3  # ... 1,000 ppm of the uptime
# The host's own clock can step (NTP, or a Pi without a real-time clock booting on a stale time). Frames that
# keep placing the boot elsewhere than its offset, agreeing with each other, for long enough and in
# enough numbers, are that step: the boot is re-anchored. One frame, or a burst read late, never is.
STEP_CONFIRM_FRAMES = 5
STEP_CONFIRM_SECONDS = 5.0
STEP_AGREE_SECONDS = 2.0
RECENT_FRAME_TIMES = 20_000  # per boot, to date the start of a loss


@dataclass
class BootState:
    """What the host knows of one boot of one device."""

    device_id: str
    boot_id: str
    wrap_ms: int
    offset: float  # wall seconds = offset + unwrapped uptime_ms / 1000
    firmware_version: str
    sensors: dict[int, frames.SensorInfo]
    acked_through: int = 0  # committed: every frame up to here is stored or known lost
    stored: set[int] = field(default_factory=set)  # committed beyond acked_through
    pending: set[int] = field(default_factory=set)  # in the batch not yet committed
    recent: OrderedDict[int, float] = field(default_factory=OrderedDict)  # seq -> reading time
    last_seen: float = 0.0
    frontier: int = 0  # the last prospective mark: it only moves forward, so each search starts there
    lost_below: int = 0  # every number below this not stored is known lost (a gap in the batch)
    seq_high: int = 0  # the highest number heard of (a hello's last used, or a frame's) ...
    seq_high_wall: float = 0.0  # ... and when, on the host's clock
    frames_per_second: float = 0.0  # what the inventory's sensors make at most
    # (host time, implied offset) of consecutive frames far from the offset: a step of the host's clock?
    step_votes: list[tuple[float, float]] = field(default_factory=list)

    def prospective_mark(self) -> int:
        """How far the ack will reach once the pending frames commit."""
        mark = max(self.frontier, self.acked_through, self.lost_below - 1)
        while mark + 1 in self.stored or mark + 1 in self.pending:
            mark += 1
        self.frontier = mark
        return mark

    def record(self) -> BootRecord:
        return BootRecord(
            self.device_id,
            self.boot_id,
            self.offset,
            self.prospective_mark(),
            self.firmware_version,
            self.last_seen,
        )


class SerialSource:
    """One microcontroller on one port, feeding the acquisition loop's batches."""

    def __init__(
        self,
        config: SerialSourceConfig,
        conn: sqlite3.Connection,
        sensors: dict[str, Quantity],
        clock: Clock,
        link: SerialLink | None = None,
    ) -> None:
        """``sensors``: the site's sensors this source may feed (``driver = "serial"``), by key."""
        self.config = config
        self._conn = conn
        self._sensors = sensors
        self._clock = clock
        self.link = link or SerialLink(config, clock)
        self._splitter = frames.LineSplitter()
        self._boots: dict[tuple[str, str], BootState] = {}
        self._current: BootState | None = None
        self._ack_due: set[tuple[str, str]] = set()
        self._last_query = -float("inf")
        self._bad_run: set[str] = set()
        self._refused_keys: set[tuple[str, str, str]] = set()
        self.counts: Counter[str] = Counter()  # this run's, for the log; "stored" among them
        self._uncommitted: Counter[str] = Counter()  # refused since the last batch took them

    # -- the loop's interface ----------------------------------------------------------------------

    def poll(self, batch: Batch) -> int:
        """Read what is waiting; add its readings, and counts of what was refused, to ``batch``. Returns
        how many frames were taken."""
        try:
            return self._poll(batch)
        finally:
            for kind, n in self._uncommitted.items():
                key = (self.config.url, kind)
                batch.serial_rejects[key] = batch.serial_rejects.get(key, 0) + n
            self._uncommitted.clear()

    def _poll(self, batch: Batch) -> int:
        data, opened = self.link.read()
        if opened:
            self._splitter = frames.LineSplitter()  # a half line from before the replug is noise
            self._send(frames.Query().encode())
        if not data:
            return 0
        taken = 0
        for item in self._splitter.feed(data):
            if isinstance(item, frames.FrameError):
                self._bad(item)
                continue
            try:
                message = frames.decode(item)
            except frames.FrameError as exc:
                self._bad(exc)
                continue
            if isinstance(message, frames.Hello):
                self._hello(message)
            elif isinstance(message, frames.Reading):
                taken += self._reading(message, batch)
            else:
                self._bad(frames.MalformedError(f"a {message.kind} frame is host-to-device only"))
                continue
            if self._bad_run:
                log.info(
                    "serial %s: good frames again after %s", self.config.url, ", ".join(sorted(self._bad_run))
                )
                self._bad_run.clear()
        return taken

    def committed(self) -> None:
        """The batch is in the database: acknowledge every frame it completed."""
        for key, boot in self._boots.items():
            if boot.pending:
                boot.stored |= boot.pending
                boot.pending.clear()
                mark = boot.prospective_mark()
                if mark > boot.acked_through:
                    boot.stored = {s for s in boot.stored if s > mark}
                    boot.acked_through = mark
                    self._ack_due.add(key)
        for key in list(self._ack_due):
            boot = self._boots[key]
            if boot is self._current and boot.acked_through > 0:
                self._send(frames.Ack(boot.device_id, boot.boot_id, boot.acked_through).encode())
            self._ack_due.discard(key)
        current = self._current
        if current is not None:  # a device runs one boot at a time: the ones before it send no more
            for key, boot in list(self._boots.items()):
                if boot is not current and boot.device_id == current.device_id and not boot.pending:
                    del self._boots[key]

    def clock_stepped(self, step: float, *, restamped: bool) -> None:
        """The acquisition loop saw the host's clock step: move every boot's mapping with it at once, rather
        than dating frames on the old clock until enough of them vote for the step (the Pi's boot-time NTP
        step would otherwise put seconds of readings hours away)."""
        for boot in self._boots.values():
            boot.offset += step
            boot.seq_high_wall += step
            boot.last_seen += step
            boot.step_votes.clear()
            if restamped:  # the frames in the held batch moved: their times as gap starts move alike
                for seq in boot.pending:
                    if seq in boot.recent:
                        boot.recent[seq] += step
        if self._boots:
            log.warning(
                "serial %s: the host's clock stepped by %+.0f s; device times follow from now",
                self.config.url,
                step,
            )

    def close(self) -> None:
        bad = {k: n for k, n in sorted(self.counts.items()) if k != "stored"}
        log.info(
            "serial %s closed: %d frames stored; %s",
            self.config.url,
            self.counts["stored"],
            ", ".join(f"{k} {n}" for k, n in bad.items()) or "nothing rejected",
        )
        self.link.close()

    # -- frames ------------------------------------------------------------------------------------

    def _count(self, kind: str, n: int = 1) -> None:
        """Count input that was refused or set aside: in this run's totals, and for the next commit."""
        self.counts[kind] += n
        self._uncommitted[kind] += n

    def _bad(self, exc: frames.FrameError) -> None:
        self._count(exc.kind)
        if exc.kind not in self._bad_run:
            self._bad_run.add(exc.kind)
            log.warning("serial %s: rejected %s frame: %s", self.config.url, exc.kind, exc)

    def _refuse(self, kind: str, detail: str) -> None:
        self._count(kind)
        if kind not in self._bad_run:
            self._bad_run.add(kind)
            log.warning("serial %s: %s", self.config.url, detail)

    def _send(self, data: bytes) -> None:
        self.link.write(data)

    def _hello(self, hello: frames.Hello) -> None:
        wanted = self.config.device_id
        if wanted is not None and hello.device_id != wanted:
            self._refuse("other-device", f"device {hello.device_id} is not the configured {wanted}")
            return
        now = self._clock.wall()
        wrap_ms = 1 << hello.wrap_bits
        uptime = hello.wraps * wrap_ms + hello.uptime_ms
        key = (hello.device_id, hello.boot_id)
        boot = self._boots.get(key)
        if boot is None:
            stored = serial_links.load_boot(self._conn, *key)
            boot = BootState(
                hello.device_id,
                hello.boot_id,
                wrap_ms,
                now - uptime / 1000.0 if stored is None else stored.wall_offset_seconds,
                hello.firmware_version,
                {s.index: s for s in hello.sensors},
            )
            if stored is not None:
                boot.acked_through = stored.acked_through
                boot.stored = serial_links.stored_above(self._conn, *key, stored.acked_through)
                log.info(
                    "device %s boot %s again: %d frames stored, acked through %d",
                    hello.device_id,
                    hello.boot_id,
                    len(boot.stored) + boot.acked_through,
                    boot.acked_through,
                )
            else:
                log.info(
                    "device %s boot %s, firmware %s: %s",
                    hello.device_id,
                    hello.boot_id,
                    hello.firmware_version,
                    ", ".join(f"{s.key} ({s.driver})" for s in hello.sensors),
                )
            self._boots[key] = boot
        boot.offset = min(boot.offset, now - uptime / 1000.0)
        boot.sensors = {s.index: s for s in hello.sensors}
        boot.frames_per_second = sum(1000.0 / s.interval_ms for s in hello.sensors)
        if hello.seq >= boot.seq_high:
            boot.seq_high, boot.seq_high_wall = hello.seq, now
        boot.last_seen = now
        self._current = boot
        for s in hello.sensors:
            quantity = self._sensors.get(s.key)
            if quantity is None or quantity != s.quantity:
                refused = (hello.device_id, hello.boot_id, s.key)
                if refused not in self._refused_keys:
                    self._refused_keys.add(refused)
                    log.warning(
                        'device %s sensor %s (%s): no %s sensor with driver = "serial" has that key;'
                        " its readings are dropped",
                        hello.device_id,
                        s.key,
                        s.driver,
                        s.quantity,
                    )
        if boot.acked_through > 0:
            self._ack_due.add(key)  # the device may have missed it: frees what is already stored

    def _unwrap(self, boot: BootState, raw_ms: int, now: float) -> int:
        """The boot's uptime in ms from a wrapped counter value, taking the wrap count nearest the clock's."""
        expected = (now - boot.offset) * 1000.0
        k = round((expected - raw_ms) / boot.wrap_ms)
        return raw_ms + max(k, 0) * boot.wrap_ms

    def _reading(self, frame: frames.Reading, batch: Batch) -> int:
        key = (frame.device_id, frame.boot_id)
        boot = self._boots.get(key)
        if boot is None:
            wanted = self.config.device_id
            if wanted is not None and frame.device_id != wanted:
                self._refuse("other-device", f"device {frame.device_id} is not the configured {wanted}")
                return 0  # asking it for a hello would only bring its whole buffer again
            self._count("before-hello")
            now_mono = self._clock.monotonic()
            if now_mono - self._last_query >= QUERY_INTERVAL_SECONDS:
                self._last_query = now_mono
                self._send(frames.Query().encode())  # the device answers with its hello and a replay
            return 0
        now = self._clock.wall()
        sent = self._unwrap(boot, frame.uptime_ms, now)
        self._follow_clock_step(boot, sent, now)
        if not self._plausible(boot, frame, sent, now):
            return 0
        boot.offset = min(boot.offset, now - sent / 1000.0)
        boot.last_seen = now
        captured = sent - (frame.uptime_ms - frame.captured_ms) % boot.wrap_ms
        ts = boot.offset + captured / 1000.0
        seq = frame.seq
        if seq > boot.seq_high:
            boot.seq_high, boot.seq_high_wall = seq, now
        if seq <= boot.acked_through or seq in boot.stored or seq in boot.pending:
            self._count("duplicate")
            self._ack_due.add(key)
            return 0
        self._losses(boot, frame, ts, batch)
        boot.pending.add(seq)
        boot.recent[seq] = ts
        if len(boot.recent) > RECENT_FRAME_TIMES:
            boot.recent.popitem(last=False)
        batch.frames.append(FrameKey(frame.device_id, frame.boot_id, seq, ts))
        info = boot.sensors.get(frame.sensor_index)
        sensor_key = info.key if info is not None else None
        if sensor_key is None or self._sensors.get(sensor_key) != (info.quantity if info else None):
            self._count("unknown-sensor")
        elif (problem := _impossible(frame, info)) is not None:
            # The frame is taken (stored as a frame and acknowledged, so the board frees it) but its value
            # is not: the sensor gets a fault instead of a reading that would poison its ledger.
            assert info is not None
            detail = f"{info.driver} {sensor_key}: {problem}"
            self._refuse(OUT_OF_RANGE, f"device {frame.device_id} frame {frame.seq}: {detail}: refused")
            batch.faults.append(SensorFault(sensor_key, ts, OUT_OF_RANGE, detail))
        elif isinstance(frame, frames.LightData):
            batch.light.append(
                LightReading(
                    sensor_key,
                    ts,
                    frame.lux,
                    frame.saturated,
                    frame.raw_counts,
                    frame.gain,
                    frame.integration_ms,
                )
            )
        elif isinstance(frame, frames.TemperatureData):
            batch.temperature.append(
                TemperatureReading(sensor_key, ts, frame.celsius, frame.relative_humidity_percent)
            )
        elif isinstance(frame, frames.FaultData):
            batch.faults.append(SensorFault(sensor_key, ts, frame.fault_kind, frame.detail))
        batch.boots[key] = boot.record()
        self.counts["stored"] += 1
        return 1

    def _follow_clock_step(self, boot: BootState, sent_ms: int, now: float) -> None:
        """Re-anchor the boot when frames agree, for long enough, that the host's clock has stepped."""
        implied = now - sent_ms / 1000.0
        tolerance = CLOCK_AHEAD_MS / 1000.0 + CLOCK_AHEAD_PER_MS * sent_ms / 1000.0
        if abs(implied - boot.offset) <= tolerance:
            boot.step_votes.clear()
            return
        votes = boot.step_votes
        votes.append((now, implied))
        while max(v for _, v in votes) - min(v for _, v in votes) > STEP_AGREE_SECONDS:
            votes.pop(0)
        if len(votes) < STEP_CONFIRM_FRAMES or now - votes[0][0] < STEP_CONFIRM_SECONDS:
            return
        offset = min(v for _, v in votes)
        log.warning(
            "serial %s: device %s boot %s: the host's clock stepped by %+.0f s; its times follow from now",
            self.config.url,
            boot.device_id,
            boot.boot_id,
            offset - boot.offset,
        )
        boot.offset = offset
        votes.clear()

    def _plausible(self, boot: BootState, frame: frames.Reading, sent_ms: int, now: float) -> bool:
        """Whether a frame's numbers can be true; one that cannot is refused, counted and logged."""
        elapsed = max(now - boot.seq_high_wall, 0.0)
        most = boot.seq_high + SEQ_SLACK + 2.0 * boot.frames_per_second * elapsed
        if frame.seq > most:
            self._refuse(
                "implausible",
                f"frame {frame.seq} of device {boot.device_id} boot {boot.boot_id} is beyond the {most:.0f}"
                " its sensors could have made: refused",
            )
            return False
        expected_ms = (now - boot.offset) * 1000.0
        if sent_ms > expected_ms + CLOCK_AHEAD_MS + CLOCK_AHEAD_PER_MS * expected_ms:
            self._refuse(
                "implausible",
                f"frame {frame.seq} of device {boot.device_id} boot {boot.boot_id}: its counter is"
                f" {(sent_ms - expected_ms) / 1000.0:.0f} s ahead of the host's clock: refused",
            )
            return False
        return True

    def _losses(self, boot: BootState, frame: frames.Reading, ts: float, batch: Batch) -> None:
        """Numbers below the frame's ``oldest`` that never arrived will never come: a gap for each sensor.

        Counted without walking the range: only the numbers held (stored or pending) are looked at.
        """
        mark = boot.prospective_mark()
        if frame.oldest <= mark + 1:
            return
        held = sum(1 for s in boot.stored if mark < s < frame.oldest)
        held += sum(1 for s in boot.pending if mark < s < frame.oldest)
        lost_count = frame.oldest - 1 - mark - held
        first = mark + 1  # not held, or the mark would be past it
        last = frame.oldest - 1
        while last in boot.stored or last in boot.pending:
            last -= 1
        start = boot.recent.get(first - 1)
        if start is None:
            start = serial_links.frame_ts(self._conn, boot.device_id, boot.boot_id, first)
        if start is None:
            start = boot.offset  # the boot itself
        reason = f"lost frames {first}-{last} of device {boot.device_id} boot {boot.boot_id}"
        log.warning("serial %s: %s (device buffer overflowed)", self.config.url, reason)
        self._count("lost", lost_count)
        for info in boot.sensors.values():
            if self._sensors.get(info.key) == info.quantity:
                batch.gaps.append(DataGap(info.key, start, ts, reason))
        boot.lost_below = frame.oldest
        batch.boots[(boot.device_id, boot.boot_id)] = boot.record()


def _impossible(frame: frames.Reading, info: frames.SensorInfo | None) -> str | None:
    """Why a data frame's value cannot have come from the chip the hello named, or ``None``."""
    if info is None or info.quantity not in ("light", "temperature"):
        return None
    limits = Limits.of(info.driver, "light" if info.quantity == "light" else "temperature")
    if isinstance(frame, frames.LightData):
        return limits.light(frame.lux, frame.gain, frame.integration_ms)
    if isinstance(frame, frames.TemperatureData):
        return limits.temperature(frame.celsius, frame.relative_humidity_percent)
    return None
