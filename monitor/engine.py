"""The monitor engine: one batch of readings in, ledger, statuses, rules and alerts out, in one transaction.

The bridge hands a :class:`Batch` to :meth:`Engine.ingest` every couple of seconds. Everything the batch
changes commits together or not at all, so a crash never leaves readings without their ledger or an alert
half written.
"""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np

from monitor import exposure, ledger
from monitor.errors import StoreError
from monitor.profiles import Catalog
from monitor.quantities import Quantity, ledger_integrand
from monitor.rules import Observation, Rule, RuleState, Transition, evaluate
from monitor.store import alerts, health, readings, serial_links, sites
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from monitor.store.sites import SensorRecord

NO_READINGS = "no readings"  # the reason of gaps the ledger finds itself (an interval over max_gap_seconds)


@dataclass(frozen=True, slots=True)
class LightReading:
    sensor_key: str
    ts: float
    lux: float
    saturated: bool = False
    raw_counts: tuple[int, ...] = ()
    gain: float | None = None
    integration_ms: float | None = None


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

    def __len__(self) -> int:
        return len(self.light) + len(self.temperature) + len(self.faults)


@dataclass(frozen=True, slots=True)
class IngestResult:
    stored: int
    rejected_out_of_order: int
    gaps: int
    alert_changes: int


class Engine:
    """Owns the write side of the store for one bridge process (the only writer of readings)."""

    def __init__(self, conn: sqlite3.Connection, catalog: Catalog, rules: tuple[Rule, ...]) -> None:
        self._conn = conn
        self._catalog = catalog
        self._rules = rules
        self._sensors = {s.key: s for s in sites.list_sensors(conn)}
        self._tails = {s.key: readings.tail(conn, s) for s in self._sensors.values()}
        self._last_ts = {k: (t.ts if t else None) for k, t in self._tails.items()}
        self._locations = {loc.id: loc for loc in sites.list_locations(conn)}
        self.readings_total = sum(readings.count(conn, s) for s in self._sensors.values())

    @property
    def sensors(self) -> dict[str, SensorRecord]:
        return dict(self._sensors)

    def ingest(self, batch: Batch, now: float, heartbeat: health.Heartbeat | None = None) -> IngestResult:
        """Store ``batch`` and evaluate every rule as of ``now`` (the clock that stamps readings)."""
        tails, last_ts, sensors = dict(self._tails), dict(self._last_ts), dict(self._sensors)
        try:
            with transaction(self._conn):
                stored, rejected, gaps, observed = self._store_readings(batch)
                serial_links.record(self._conn, batch.frames, batch.boots.values())
                self._update_statuses(batch, now)
                changes = self._evaluate_rules(batch, observed, now)
                if heartbeat is not None:
                    health.write(self._conn, heartbeat)
        except sqlite3.Error as exc:
            # Nothing of the batch was committed: put the in-memory ledger tails back so a retry of the
            # same batch continues from what the database holds.
            self._tails, self._last_ts, self._sensors = tails, last_ts, sensors
            raise StoreError(f"could not store a batch of {len(batch)} readings: {exc}") from exc
        self.readings_total += stored
        return IngestResult(stored, rejected, gaps, changes)

    # -- readings and ledger -------------------------------------------------------------------------

    def _sensor(self, key: str) -> SensorRecord:
        sensor = self._sensors.get(key)
        if sensor is None:
            raise KeyError(f"reading for unknown sensor {key!r}")
        return sensor

    def _store_readings(self, batch: Batch) -> tuple[int, int, int, dict[str, list[Observation]]]:
        stored = rejected = gap_count = 0
        observed: dict[str, list[Observation]] = defaultdict(list)
        light_by_sensor: dict[str, list[LightReading]] = defaultdict(list)
        temp_by_sensor: dict[str, list[TemperatureReading]] = defaultdict(list)
        for lr in batch.light:
            light_by_sensor[lr.sensor_key].append(lr)
        for tr in batch.temperature:
            temp_by_sensor[tr.sensor_key].append(tr)
        gaps_by_sensor: dict[str, list[ledger.Gap]] = defaultdict(list)
        for g in batch.gaps:
            sensor = self._sensor(g.sensor_key)
            gap = ledger.Gap(g.start_ts, g.end_ts)
            readings.insert_gaps(self._conn, sensor.id, [gap], g.reason)
            gaps_by_sensor[g.sensor_key].append(gap)
        for key in sorted({*light_by_sensor, *temp_by_sensor, *gaps_by_sensor}):
            sensor = self._sensor(key)
            lights: list[LightReading] = []
            temps: list[TemperatureReading] = []
            if sensor.quantity == "light":
                lights = sorted(light_by_sensor.get(key, []), key=lambda r: r.ts)
                series = [(r.ts, r.lux) for r in lights]
            else:
                temps = sorted(temp_by_sensor.get(key, []), key=lambda r: r.ts)
                series = [(r.ts, r.celsius) for r in temps]
            late, forward = self._split(key, series)
            rejected += len(series) - len(late) - len(forward)
            last = self._last_ts.get(key)
            known = gaps_by_sensor.get(key, [])
            starts = [t for t, _ in late] + [g.start for g in known if last is not None and g.start < last]
            if starts:
                # Insert first, then integrate again from the earliest instant the batch changes.
                keep = {t for t, _ in late} | {t for t, _ in forward}
                stored += self._insert(sensor, lights, temps, keep, {})
                gap_count += self._rewrite(sensor, min(starts))
            elif forward:
                cum, found = self._continue(sensor, forward)
                stored += self._insert(sensor, lights, temps, set(cum), cum)
                gap_count += found
            if forward:
                observed[key] = [Observation(t, v) for t, v in forward]
        return stored, rejected, gap_count, observed

    def _insert(
        self,
        sensor: SensorRecord,
        lights: list[LightReading],
        temps: list[TemperatureReading],
        keep: set[float],
        cum: dict[float, float],
    ) -> int:
        """Insert the rows at ``keep`` instants with their cumulative value (0 until rewritten)."""
        if sensor.quantity == "light":
            rows = [
                readings.LightRow(
                    r.ts, r.lux, r.saturated, r.raw_counts, r.gain, r.integration_ms, cum.get(r.ts, 0.0)
                )
                for r in lights
                if r.ts in keep
            ]
            return readings.insert_light(self._conn, sensor.id, rows)
        trows = [
            readings.TemperatureRow(r.ts, r.celsius, r.relative_humidity_percent, cum.get(r.ts, 0.0))
            for r in temps
            if r.ts in keep
        ]
        return readings.insert_temperature(self._conn, sensor.id, trows)

    def _split(
        self, key: str, series: list[tuple[float, float]]
    ) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """Rows at or before the last stored time (late: they rewrite the ledger) and rows after it."""
        last = self._last_ts.get(key)
        late: list[tuple[float, float]] = []
        forward: list[tuple[float, float]] = []
        previous: float | None = None
        for t, v in series:
            if t == previous:
                continue  # the same instant twice in one batch: the first stands
            previous = t
            (forward if last is None or t > last else late).append((t, v))
        return late, forward

    def _integrate(
        self, sensor: SensorRecord, tail: ledger.Tail | None, points: list[tuple[float, float]]
    ) -> tuple[np.ndarray, list[ledger.Gap]]:
        t = np.asarray([p[0] for p in points], dtype=np.float64)
        rate = ledger_integrand(sensor.quantity, np.asarray([p[1] for p in points], dtype=np.float64))
        after = tail.ts if tail is not None else -math.inf
        unknown = readings.known_gaps(self._conn, sensor.id, after, NO_READINGS)
        cum, gaps = ledger.integrate(tail, t, rate, sensor.max_gap_seconds, unknown)
        readings.insert_gaps(self._conn, sensor.id, gaps, NO_READINGS)
        last = self._last_ts.get(sensor.key)
        if last is None or float(t[-1]) >= last:
            self._tails[sensor.key] = ledger.Tail(float(t[-1]), float(rate[-1]), float(cum[-1]))
            self._last_ts[sensor.key] = float(t[-1])
        return cum, gaps

    def _continue(
        self, sensor: SensorRecord, forward: list[tuple[float, float]]
    ) -> tuple[dict[float, float], int]:
        """The cumulative values of rows after the last stored one, continuing the ledger from its tail."""
        cum, gaps = self._integrate(sensor, self._tails.get(sensor.key), forward)
        return {t: float(c) for (t, _), c in zip(forward, cum, strict=True)}, len(gaps)

    def _rewrite(self, sensor: SensorRecord, start: float) -> int:
        """Integrate the stored series again from ``start``: a late reading, or a gap known only now.

        The ledger from that instant on was computed without it. It restarts from the stored point before
        ``start``; the gaps the ledger found itself after that point are found afresh.
        """
        tail = readings.anchor_before(self._conn, sensor, start)
        readings.delete_gaps_after(self._conn, sensor.id, tail.ts if tail else -math.inf, NO_READINGS)
        points = readings.series(self._conn, sensor, start, math.inf, limit=10_000_000)
        if not points:
            return 0
        cum, gaps = self._integrate(sensor, tail, points)
        readings.set_cumulative(
            self._conn, sensor, [(t, float(c)) for (t, _), c in zip(points, cum, strict=True)]
        )
        return len(gaps)

    # -- sensor status -------------------------------------------------------------------------------

    def _update_statuses(self, batch: Batch, now: float) -> None:
        # The latest outcome per sensor in this batch: a reading (None) or a fault.
        outcomes: list[tuple[str, float, SensorFault | None]] = [
            *((r.sensor_key, r.ts, None) for r in batch.light),
            *((r.sensor_key, r.ts, None) for r in batch.temperature),
            *((f.sensor_key, f.ts, f) for f in batch.faults),
        ]
        latest: dict[str, tuple[float, SensorFault | None]] = {}
        for key, ts, outcome in sorted(outcomes, key=lambda o: o[1]):
            latest[key] = (ts, outcome)
        for key, (ts, fault) in latest.items():
            sensor = self._sensor(key)
            if fault is not None and (sensor.status != "faulty" or sensor.status_detail != fault.detail):
                sites.set_sensor_status(self._conn, sensor.id, "faulty", fault.detail, ts)
                sites.record_fault(self._conn, sensor.id, ts, fault.kind, fault.detail)
                self._sensors[key] = _with_status(sensor, "faulty", fault.detail, ts)
            elif fault is None and sensor.status != "ok":
                sites.set_sensor_status(self._conn, sensor.id, "ok", "", ts)
                self._sensors[key] = _with_status(sensor, "ok", "", ts)
        for key, sensor in self._sensors.items():
            last = self._last_ts.get(key)
            silent = last is None or now - last > 3 * sensor.interval_seconds
            if silent and sensor.status == "ok":
                sites.set_sensor_status(self._conn, sensor.id, "stale", "no recent reading", now)
                self._sensors[key] = _with_status(sensor, "stale", "no recent reading", now)

    # -- rules ---------------------------------------------------------------------------------------

    def _observations(
        self, rule: Rule, batch: Batch, observed: dict[str, list[Observation]], now: float
    ) -> dict[tuple[str, int], list[Observation]]:
        """Observations per subject ``(name shown in messages, id)`` for ``rule``."""
        out: dict[tuple[str, int], list[Observation]] = {}
        if rule.subject == "location":
            holding = vial_store.active_location_ids(self._conn)
            quantity: Quantity = "light" if rule.metric == "lux" else "temperature"
            for loc in self._locations.values():
                sensor = sites.primary_sensor(self._conn, loc.id, quantity)
                if sensor is None:
                    continue
                series = observed.get(sensor.key, [])
                if rule.only_where_vials and loc.id not in holding:
                    series = [Observation(now, -math.inf if rule.high < math.inf else math.inf)]
                out[(loc.name, loc.id)] = series
        elif rule.subject == "vial":
            for vial in vial_store.list_all(self._conn):
                if vial.status != "active":
                    out[(vial.key, vial.id)] = [Observation(now, math.inf)]  # no longer a concern
                    continue
                p = exposure.vial_potency(self._conn, self._catalog, vial)
                out[(vial.key, vial.id)] = [Observation(p.as_of, p.percent)]
        elif rule.metric == "silent_intervals":
            for sensor in self._sensors.values():
                last = self._last_ts.get(sensor.key)
                age = math.inf if last is None else max(now - last, 0.0)
                out[(sensor.key, sensor.id)] = [Observation(now, age / sensor.interval_seconds)]
        elif rule.metric == "calibration_overdue_days":
            for sensor in self._sensors.values():
                if sensor.calibration_due_ts is not None:
                    overdue = (now - sensor.calibration_due_ts) / 86_400.0
                    out[(sensor.key, sensor.id)] = [Observation(now, overdue)]
        else:  # faulted
            faulted = {f.sensor_key: f.ts for f in batch.faults}
            for sensor in self._sensors.values():
                if sensor.key in faulted:
                    out[(sensor.key, sensor.id)] = [Observation(faulted[sensor.key], 1.0)]
                elif observed.get(sensor.key):
                    out[(sensor.key, sensor.id)] = [Observation(observed[sensor.key][-1].ts, 0.0)]
        return out

    def _evaluate_rules(self, batch: Batch, observed: dict[str, list[Observation]], now: float) -> int:
        open_by_fp = alerts.open_alerts(self._conn)
        since_by_fp = alerts.rule_states(self._conn)
        changes = 0
        for rule in self._rules:
            for (name, subject_id), series in self._observations(rule, batch, observed, now).items():
                fp = f"{rule.name}:{rule.subject}:{subject_id}"
                current = open_by_fp.get(fp)
                state = RuleState(
                    since_by_fp.get(fp),
                    None
                    if current is None
                    else (current.worst_value if current.worst_value is not None else current.value),
                )
                transitions, new_state = evaluate(rule, series, state)
                for tr in transitions:
                    self._apply(rule, fp, name, subject_id, tr, open_by_fp)
                    changes += 1
                if new_state.since != state.since:
                    alerts.set_rule_state(self._conn, fp, new_state.since)
        return changes

    def _apply(
        self,
        rule: Rule,
        fp: str,
        name: str,
        subject_id: int,
        tr: Transition,
        open_by_fp: dict[str, alerts.AlertRecord],
    ) -> None:
        current = open_by_fp.get(fp)
        if tr.kind == "fire":
            ids = {
                "location": (subject_id, None, None),
                "vial": (None, subject_id, None),
                "sensor": (None, None, subject_id),
            }[rule.subject]
            location_id, vial_id, sensor_id = ids
            if sensor_id is not None:
                location_id = next(s.location_id for s in self._sensors.values() if s.id == sensor_id)
            alert_id = alerts.fire(
                self._conn,
                alerts.NewAlert(
                    fingerprint=fp,
                    rule=rule.name,
                    severity=rule.severity,
                    location_id=location_id,
                    vial_id=vial_id,
                    sensor_id=sensor_id,
                    started_ts=tr.started_ts,
                    fired_ts=tr.ts,
                    value=tr.value,
                    message=rule.message(name, tr.value),
                ),
            )
            open_by_fp[fp] = alerts.get(self._conn, alert_id)
        elif current is not None and tr.kind == "update":
            alerts.update(self._conn, current.id, tr.ts, tr.value, rule.message(name, tr.value))
        elif current is not None:
            alerts.resolve(self._conn, current.id, tr.ts, "condition cleared")
            del open_by_fp[fp]


def _with_status(sensor: SensorRecord, status: sites.SensorStatus, detail: str, ts: float) -> SensorRecord:
    return replace(sensor, status=status, status_detail=detail, status_since=ts)
