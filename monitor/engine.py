"""The monitor engine: one batch of readings in, ledger, statuses, rules and alerts out, in one transaction.

The bridge hands a :class:`Batch` to :meth:`Engine.ingest` every couple of seconds. Everything the batch
changes commits together or not at all, so a crash never leaves readings without their ledger or an alert
half written.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeAlias, TypeVar, cast

import numpy as np

from monitor import exposure, refused_readings, storage_health, timekeeping
from monitor.alerts.lifecycle import RuleState, Transition, escalated_severity, evaluate
from monitor.alerts.rules import Observation, Rule
from monitor.batch import Batch, LightReading, SensorFault, TemperatureReading
from monitor.errors import StoreError
from monitor.model import ledger
from monitor.model.profiles import Catalog
from monitor.model.quantities import Quantity, ledger_integrand
from monitor.plausibility import OUT_OF_RANGE, Limits, possible_mask
from monitor.site_view import SiteView
from monitor.store import alerts, health, readings, serial_links, silences, sites, spectral
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from monitor.store.sites import SensorRecord

R = TypeVar("R", "LightReading", "TemperatureReading")
Reading: TypeAlias = "LightReading | TemperatureReading"

SERIAL_DRIVER = "serial"  # a sensor read by a microcontroller, its readings arriving as frames
NO_READINGS = "no readings"  # the reason of gaps the ledger finds itself (an interval over max_gap_seconds)

PURGE_EVERY_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class IngestResult:
    stored: int
    rejected_out_of_order: int
    gaps: int
    alert_changes: int


# In a dark fridge, how often the vial rules look again (clock seconds): a thermal loss of a few parts per
# million an hour cannot cross a threshold in between, and a label's 60-minute limit is late by at most this.
VIAL_RECHECK_SECONDS = 30.0


class Engine:
    """Owns the write side of the store for one bridge process (the only writer of readings)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        catalog: Catalog,
        rules: tuple[Rule, ...],
        *,
        alert_retention_seconds: float = 90 * 86_400.0,
        db_path: Path | None = None,
        min_free_bytes: float = 0.0,
    ) -> None:
        self._conn = conn
        self._db_path = db_path  # watched for room left (a disk-nearly-full alert) when given
        self._min_free_bytes = min_free_bytes
        self._alert_retention_seconds = alert_retention_seconds
        self._purged_ts: float | None = None
        self._catalog = catalog
        self._rules = rules
        self._sensors = {s.key: s for s in sites.list_sensors(conn)}
        self._tails = {s.key: readings.tail(conn, s) for s in self._sensors.values()}
        self._last_ts = {k: (t.ts if t else None) for k, t in self._tails.items()}
        self._locations = {loc.id: loc for loc in sites.list_locations(conn)}
        self.readings_total = sum(readings.count(conn, s) for s in self._sensors.values())
        self._potencies: dict[int, exposure.VialPotency] = {}  # per batch, shared by the vial rules
        self._site_view = SiteView(conn)
        self._vials_checked_at = -math.inf  # clock time of the last evaluation of the vial rules
        self._vials_stamp: tuple[int, int] | None = None  # newest vial and vial event then
        self._holding: set[int] = set()  # locations holding an active vial, as of that stamp

    def break_series(self, until_ts: float, reason: str) -> None:
        """Nothing was observed from each sensor's last stored reading until ``until_ts`` (the bridge was
        down): record that as a gap with ``reason``, however short, which the ledger never bridges (it reads
        recorded gaps back when it integrates). Runs in the caller's transaction.

        Sensors on a serial microcontroller are left out: the board kept sampling into its buffer while
        the bridge was down, and what it could not keep it announces, as frames lost, which become gaps."""
        for key, tail in self._tails.items():
            if self._sensors[key].driver == SERIAL_DRIVER:
                continue
            if tail is not None and until_ts > tail.ts:
                readings.insert_gaps(
                    self._conn, self._sensors[key].id, [ledger.Gap(tail.ts, until_ts)], reason
                )

    @property
    def last_reading_ts(self) -> float | None:
        """The newest reading stored, of any sensor: the last moment the bridge is known to have seen."""
        return max((ts for ts in self._last_ts.values() if ts is not None), default=None)

    @property
    def sensors(self) -> dict[str, SensorRecord]:
        return dict(self._sensors)

    def ingest(self, batch: Batch, now: float, heartbeat: health.Heartbeat | None = None) -> IngestResult:
        """Store ``batch`` and evaluate every rule as of ``now`` (the clock that stamps readings)."""
        tails, last_ts, sensors = dict(self._tails), dict(self._last_ts), dict(self._sensors)
        batch = self._screen(batch)
        try:
            with transaction(self._conn):
                stored, rejected, gaps, observed = self._store_readings(batch)
                serial_links.record(self._conn, batch.frames, batch.boots.values())
                if batch.serial_rejects:
                    serial_links.add_rejects(self._conn, batch.serial_rejects, now)
                self._update_statuses(batch, now)
                changes = self._evaluate_rules(batch, observed, now)
                changes += refused_readings.apply(
                    self._conn,
                    ((f.sensor_key, f.kind, f.detail) for f in batch.faults),
                    observed,
                    self._sensors,
                    now,
                )
                changes += silences.reconcile(self._conn, now)
                if batch.clock is not None:
                    changes += timekeeping.apply(self._conn, batch.clock, now)
                if self._db_path is not None:
                    changes += storage_health.apply(self._conn, self._db_path, now, self._min_free_bytes)
                self._purge_resolved_alerts(now)
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

    def _screen(self, batch: Batch) -> Batch:
        """The batch with every reading no sensor of its quantity could report made an ``out-of-range``
        fault: the entries refuse them by chip already, this catches whatever reaches the engine otherwise
        (a spool replayed after a crash, a source that forgot)."""
        light_ok = possible_mask(
            "light",
            _floats(r.lux for r in batch.light),
            _floats(1.0 if r.gain is None else r.gain for r in batch.light),
            _floats(1.0 if r.integration_ms is None else r.integration_ms for r in batch.light),
        )
        temperature_ok = possible_mask(
            "temperature",
            _floats(r.celsius for r in batch.temperature),
            _floats(
                50.0 if r.relative_humidity_percent is None else r.relative_humidity_percent
                for r in batch.temperature
            ),
        )
        if light_ok.all() and temperature_ok.all():
            return batch  # every batch but a damaged one: no reading looked at twice
        faults: list[SensorFault] = []
        light: list[LightReading] = []
        temperature: list[TemperatureReading] = []
        limits = {q: Limits.of("", q) for q in ("light", "temperature")}
        for lr, ok in zip(batch.light, light_ok, strict=True):
            problem = None if ok else limits["light"].light(lr.lux, lr.gain, lr.integration_ms)
            if problem is None:
                light.append(lr)
            else:
                faults.append(SensorFault(lr.sensor_key, lr.ts, OUT_OF_RANGE, problem))
        for tr, ok in zip(batch.temperature, temperature_ok, strict=True):
            problem = (
                None if ok else limits["temperature"].temperature(tr.celsius, tr.relative_humidity_percent)
            )
            if problem is None:
                temperature.append(tr)
            else:
                faults.append(SensorFault(tr.sensor_key, tr.ts, OUT_OF_RANGE, problem))
        if not faults:
            return batch
        return replace(batch, light=light, temperature=temperature, faults=[*batch.faults, *faults])

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
            late: Sequence[Reading]
            forward: Sequence[Reading]
            if sensor.quantity == "light":
                lights = sorted(light_by_sensor.get(key, []), key=_ts)
                late, light_forward = self._split(key, lights)
                values = [r.lux for r in light_forward]
                forward, arrived = light_forward, len(lights)
            else:
                temps = sorted(temp_by_sensor.get(key, []), key=_ts)
                late, temp_forward = self._split(key, temps)
                values = [r.celsius for r in temp_forward]
                forward, arrived = temp_forward, len(temps)
            rejected += arrived - len(late) - len(forward)
            # A reading at or before the last stored one (a microcontroller's buffer arriving late) or a
            # gap known only now changes the ledger from that instant: insert, then integrate again.
            added_late = self._insert(sensor, late, [0.0] * len(late)) if late else 0
            stored += added_late
            last = self._last_ts.get(key)
            starts = [late[0].ts] if added_late else []
            starts += [g.start for g in gaps_by_sensor.get(key, []) if last is not None and g.start < last]
            ts = [r.ts for r in forward]
            if starts:
                stored += self._insert(sensor, forward, [0.0] * len(forward))
                gap_count += self._rewrite(sensor, min(starts))
            elif forward:
                cum, gaps = self._integrate(sensor, self._tails.get(key), ts, values)
                stored += self._insert(sensor, forward, cum.tolist())
                gap_count += len(gaps)
            if forward:
                observed[key] = [Observation(t, v) for t, v in zip(ts, values, strict=True)]
            if sensor.quantity == "light":
                spectra = [
                    spectral.SpectralRow(r.ts, r.lux, r.spectrum)
                    for r in cast("Sequence[LightReading]", forward)
                    if r.spectrum is not None
                ]
                if spectra:
                    spectral.insert(self._conn, sensor, spectra)
        return stored, rejected, gap_count, observed

    def _insert(self, sensor: SensorRecord, rows: Sequence[Reading], cum: Sequence[float]) -> int:
        """Insert rows with their cumulative ledger values; a row already stored is left as it was."""
        if sensor.quantity == "light":
            return readings.insert_light(self._conn, sensor.id, cast("Sequence[LightReading]", rows), cum)
        return readings.insert_temperature(
            self._conn, sensor.id, cast("Sequence[TemperatureReading]", rows), cum
        )

    def _split(self, key: str, rows: list[R]) -> tuple[list[R], list[R]]:
        """Sorted rows at or before the last stored time (late: they rewrite the ledger) and after it."""
        last = self._last_ts.get(key)
        late: list[R] = []
        forward: list[R] = []
        previous: float | None = None
        for r in rows:
            if r.ts == previous:
                continue  # the same instant twice in one batch: the first stands
            previous = r.ts
            (forward if last is None or r.ts > last else late).append(r)
        return late, forward

    def _integrate(
        self, sensor: SensorRecord, tail: ledger.Tail | None, ts: list[float], values: list[float]
    ) -> tuple[np.ndarray, list[ledger.Gap]]:
        t = np.asarray(ts, dtype=np.float64)
        rate = ledger_integrand(sensor.quantity, np.asarray(values, dtype=np.float64))
        after = tail.ts if tail is not None else -math.inf
        unknown = readings.known_gaps(self._conn, sensor.id, after, NO_READINGS)
        cum, gaps = ledger.integrate(tail, t, rate, sensor.max_gap_seconds, unknown)
        readings.insert_gaps(self._conn, sensor.id, gaps, NO_READINGS)
        last = self._last_ts.get(sensor.key)
        if last is None or float(t[-1]) >= last:
            self._tails[sensor.key] = ledger.Tail(float(t[-1]), float(rate[-1]), float(cum[-1]))
            self._last_ts[sensor.key] = float(t[-1])
        return cum, gaps

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
        ts = [t for t, _ in points]
        cum, gaps = self._integrate(sensor, tail, ts, [v for _, v in points])
        readings.set_cumulative(self._conn, sensor, list(zip(ts, cum.tolist(), strict=True)))
        return len(gaps)

    # -- sensor status -------------------------------------------------------------------------------

    def _update_statuses(self, batch: Batch, now: float) -> None:
        # The latest outcome per sensor in this batch: a reading (None) or a fault.
        # One pass, no sort: a back-filled batch holds tens of thousands of readings. A fault at the same
        # instant as a reading wins, as the later word on the sensor.
        latest: dict[str, tuple[float, SensorFault | None]] = {}
        for readings_of_kind in (batch.light, batch.temperature):
            for reading in readings_of_kind:
                seen = latest.get(reading.sensor_key)
                if seen is None or reading.ts > seen[0]:
                    latest[reading.sensor_key] = (reading.ts, None)
        for f in batch.faults:
            seen = latest.get(f.sensor_key)
            if seen is None or f.ts >= seen[0]:
                latest[f.sensor_key] = (f.ts, f)
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
        self,
        rule: Rule,
        batch: Batch,
        observed: dict[str, list[Observation]],
        now: float,
    ) -> dict[tuple[str, int], list[Observation]]:
        """Observations per subject ``(name shown in messages, id)`` for ``rule``."""
        out: dict[tuple[str, int], list[Observation]] = {}
        if rule.subject == "location":
            quantity: Quantity = "light" if rule.metric == "lux" else "temperature"
            for loc in self._locations.values():
                sensor = self._site_view.sensor(loc.id, quantity)
                if sensor is None:
                    continue
                series = observed.get(sensor.key, [])
                if rule.only_where_vials and loc.id not in self._holding:
                    series = [Observation(now, -math.inf if rule.high < math.inf else math.inf)]
                out[(loc.name, loc.id)] = series
        elif rule.subject == "vial":
            for vial in vial_store.list_all(self._conn):
                if vial.status != "active":  # no longer a concern: a value inside every bound
                    out[(vial.key, vial.id)] = [
                        Observation(now, -math.inf if rule.high < math.inf else math.inf)
                    ]
                    continue
                p = self._potencies.get(vial.id)
                if p is None:  # once per batch, whichever vial rules ask
                    p = self._potencies[vial.id] = exposure.vial_potency(
                        self._conn, self._catalog, vial, now=now, site=self._site_view
                    )
                if rule.metric == "potency_percent" and not self._reporting(p.location_id):
                    # Before its location's first reading nothing bounds the light there, so the low
                    # bound is 0 %: a critical alert that the first reading would resolve seconds later
                    # (a serial site's board connects after the bridge starts). The rule waits for data.
                    continue
                if rule.metric == "label_overrun_minutes":
                    ttt = p.time_to_threshold
                    deadline = None if ttt is None else ttt.label_deadline_ts
                    overrun = -math.inf if deadline is None else (now - deadline) / 60.0
                    out[(vial.key, vial.id)] = [Observation(now, overrun)]
                else:
                    # The low bound: an alert must not wait for the best estimate when the data cannot
                    # rule out the loss (the message says it is the low bound).
                    out[(vial.key, vial.id)] = [Observation(p.as_of, p.percent_range.low)]
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

    def _reporting(self, location_id: int | None) -> bool:
        """Whether the location has data: a reading from any of its sensors, or no sensor to wait for."""
        there = [s.key for s in self._sensors.values() if s.location_id == location_id]
        return not there or any(self._last_ts.get(key) is not None for key in there)

    def _vials_due(self, batch: Batch, now: float) -> bool:
        """Whether the vial rules need a fresh potency this batch.

        A vial's potency is the costliest observation (a walk over its events and its locations' ledgers:
        most of a quiet batch's CPU, measured with ``bench/bench_footprint.py``), and in a closed, dark
        fridge it moves only by the slow thermal term. So it is recomputed when light was seen, when a
        vial was registered or an event recorded (by any process: events are rows, a vial's status moves
        only with one), and otherwise every ``VIAL_RECHECK_SECONDS``.
        """
        stamp = vial_store.change_stamp(self._conn)
        due = (
            stamp != self._vials_stamp
            or now - self._vials_checked_at >= VIAL_RECHECK_SECONDS
            or any(r.lux > 0.0 for r in batch.light)
        )
        if stamp != self._vials_stamp:  # where the vials are moves only with a vial or an event
            self._holding = vial_store.active_location_ids(self._conn)
        self._vials_stamp = stamp
        if due:
            self._vials_checked_at = now
        return due

    def _evaluate_rules(self, batch: Batch, observed: dict[str, list[Observation]], now: float) -> int:
        self._potencies = {}
        self._site_view = SiteView(self._conn)
        open_by_fp = alerts.open_alerts(self._conn)
        timers = alerts.rule_timers(self._conn)
        vials_due = self._vials_due(batch, now)
        changes = 0
        for rule in self._rules:
            if rule.subject == "vial" and not vials_due:
                continue
            for (name, subject_id), series in self._observations(rule, batch, observed, now).items():
                fp = f"{rule.name}:{rule.subject}:{subject_id}"
                current = open_by_fp.get(fp)
                breached = current is not None and current.state != "pending"
                worst = None
                if current is not None and breached:
                    worst = current.worst_value if current.worst_value is not None else current.value
                state = RuleState.from_timer_json(
                    timers.get(fp), open_worst=worst, pending=current is not None and not breached
                )
                transitions, new_state = evaluate(
                    rule, series, state, max_step_seconds=self._max_step_seconds(rule, subject_id)
                )
                for tr in transitions:
                    self._apply(rule, fp, name, subject_id, tr, open_by_fp)
                    changes += 1
                timer = _persisted_timer(rule, new_state)
                if timer != timers.get(fp):
                    alerts.set_rule_timer(self._conn, fp, timer)
        return changes + self._escalate(open_by_fp, now)

    def _purge_resolved_alerts(self, now: float) -> None:
        """Resolved alerts past the retention window go, checked once an hour (and at the first batch)."""
        if self._purged_ts is not None and now - self._purged_ts < PURGE_EVERY_SECONDS:
            return
        self._purged_ts = now
        alerts.purge_resolved(self._conn, now - self._alert_retention_seconds)

    def _max_step_seconds(self, rule: Rule, subject_id: int) -> float:
        """How long one reading counts for in a cumulative timer: up to its sensor's gap threshold."""
        if rule.timer != "cumulative" or rule.subject != "location":
            return math.inf
        quantity: Quantity = "light" if rule.metric == "lux" else "temperature"
        sensor = self._site_view.sensor(subject_id, quantity)
        return math.inf if sensor is None else sensor.max_gap_seconds

    def _escalate(self, open_by_fp: dict[str, alerts.AlertRecord], now: float) -> int:
        """Firing alerts left unacknowledged past their rule's time go one severity step up."""
        rules = {r.name: r for r in self._rules}
        changes = 0
        for alert in open_by_fp.values():
            rule = rules.get(alert.rule)
            if rule is None:
                continue
            after = rule.escalate_after_seconds
            step = escalated_severity(
                alert.severity, alert.state, alert.fired_ts, alert.escalated_ts, now, after
            )
            if step is not None:
                minutes = rule.escalate_after_seconds / 60.0
                alerts.escalate(
                    self._conn,
                    alert.id,
                    now,
                    step,
                    f"unacknowledged for {minutes:g} min: {alert.severity} escalated to {step}",
                )
                changes += 1
        return changes

    def _snapshot(self, rule: Rule, subject_id: int) -> str:
        """The rule's parameters and, for a vial, the model constants in force, as JSON."""
        snap: dict[str, object] = {"rule": rule.parameters()}
        if rule.subject == "vial":
            vial = vial_store.get(self._conn, subject_id)
            drug = self._catalog.drug(vial.drug)
            snap["model"] = {
                "drug": vial.drug,
                "form": vial.form,
                "drug_constants": drug.model_dump(mode="json", exclude={"forms"}),
                "form_constants": self._catalog.form(vial.drug, vial.form).model_dump(mode="json"),
            }
        return json.dumps(snap, separators=(",", ":"), sort_keys=True)

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
        message = rule.message(name, tr.value)
        if tr.kind in ("pending", "fire") and current is None:
            ids = {
                "location": (subject_id, None, None),
                "vial": (None, subject_id, None),
                "sensor": (None, None, subject_id),
            }[rule.subject]
            location_id, vial_id, sensor_id = ids
            if sensor_id is not None:
                location_id = next(s.location_id for s in self._sensors.values() if s.id == sensor_id)
            alert_id = alerts.open_alert(
                self._conn,
                alerts.NewAlert(
                    fingerprint=fp,
                    rule=rule.name,
                    severity=rule.severity,
                    location_id=location_id,
                    vial_id=vial_id,
                    sensor_id=sensor_id,
                    started_ts=tr.started_ts,
                    fired_ts=tr.ts if tr.kind == "fire" else None,
                    value=tr.value,
                    message=message,
                    alert_class=rule.alert_class,
                    snapshot=self._snapshot(rule, subject_id),
                ),
            )
            open_by_fp[fp] = alerts.get(self._conn, alert_id)
        elif current is None:
            return
        elif tr.kind == "fire":
            alerts.promote(self._conn, current.id, tr.ts, tr.value, message, self._snapshot(rule, subject_id))
            open_by_fp[fp] = alerts.get(self._conn, current.id)
        elif tr.kind == "update":
            alerts.update(self._conn, current.id, tr.ts, tr.value, message)
        elif tr.kind == "withdraw":
            alerts.withdraw(self._conn, current.id, tr.ts, "back in range before the time rule was met")
            del open_by_fp[fp]
        elif tr.kind == "resolve":
            detail = f"condition cleared for {rule.clear_seconds / 60.0:g} min"
            alerts.resolve(self._conn, current.id, tr.ts, detail, ended_ts=tr.started_ts)
            del open_by_fp[fp]


def _persisted_timer(rule: Rule, state: RuleState) -> str | None:
    """The timer to keep between batches, or None when there is nothing to remember.

    A single-event timer needs no reading history, so it is written only when its excursion or clear
    delay changes, not on every batch.
    """
    if rule.timer == "single":
        if state.since is None and state.clear_since is None:
            return None  # the common case, every batch, for every quiet rule: no copy made
        state = replace(state, last_ts=None, last_out=False, out_spans=())
    if state.since is None and state.clear_since is None and not state.out_spans and not state.last_out:
        return None
    return state.timer_json()


def _floats(values: Iterable[float]) -> np.ndarray:
    return np.fromiter(values, dtype=np.float64)


def _ts(reading: Reading) -> float:
    return reading.ts


def _with_status(sensor: SensorRecord, status: sites.SensorStatus, detail: str, ts: float) -> SensorRecord:
    return replace(sensor, status=status, status_detail=detail, status_since=ts)
