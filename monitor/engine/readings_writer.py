"""The readings writer: each sensor's readings stored with the ledger's cumulative value at each one.

The ledger is continued from each sensor's tail (its last stored point) as readings arrive in order. A
reading at or before the last stored one (a microcontroller's buffer arriving late) or a gap known only
now changes the ledger from that instant: the stored series is integrated again from there.
"""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias, TypeVar, cast

import numpy as np

from monitor.alerts.rule import Observation
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.model import ledger
from monitor.model.quantities import ledger_integrand
from monitor.store import readings, spectral
from monitor.store.sites import SensorRecord

R = TypeVar("R", "LightReading", "TemperatureReading")
Reading: TypeAlias = "LightReading | TemperatureReading"

SERIAL_DRIVER = "serial"  # a sensor read by a microcontroller, its readings arriving as frames
NO_READINGS = "no readings"  # the reason of gaps the ledger finds itself (an interval over max_gap_seconds)

# What the rules see of a batch: per sensor key, the values stored in time order.
Observed: TypeAlias = dict[str, list[Observation]]


@dataclass(frozen=True, slots=True)
class Written:
    """What one batch added: rows stored, readings refused as out of order, gaps found, and the values
    stored per sensor for the rules."""

    stored: int
    rejected_out_of_order: int
    gaps: int
    observed: Observed


@dataclass(frozen=True, slots=True)
class Tails:
    """Where each sensor's ledger stands: kept to put back when a batch's transaction fails."""

    tails: dict[str, ledger.Tail | None]
    last_ts: dict[str, float | None]


class ReadingsWriter:
    """Writes the readings of the sensors it was given; runs inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, sensors: Mapping[str, SensorRecord]) -> None:
        self._conn = conn
        # Only what never changes while the engine runs is read here (id, quantity, driver, max gap).
        self._sensors = dict(sensors)
        self._tails = {s.key: readings.tail(conn, s) for s in self._sensors.values()}
        self._last_ts = {k: (t.ts if t else None) for k, t in self._tails.items()}

    @property
    def last_ts(self) -> Mapping[str, float | None]:
        """Each sensor's newest stored reading time (None before its first)."""
        return self._last_ts

    def tails(self) -> Tails:
        return Tails(dict(self._tails), dict(self._last_ts))

    def restore(self, saved: Tails) -> None:
        """Put back the tails of before a batch whose transaction failed: a retry of the same batch
        continues from what the database holds."""
        self._tails, self._last_ts = dict(saved.tails), dict(saved.last_ts)

    def break_series(self, until_ts: float, reason: str) -> None:
        """Record a gap with ``reason`` from each sensor's last stored reading until ``until_ts``.

        Sensors on a serial microcontroller are left out: the board kept sampling into its buffer while
        the bridge was down, and what it could not keep it announces, as frames lost, which become gaps."""
        for key, tail in self._tails.items():
            if self._sensors[key].driver == SERIAL_DRIVER:
                continue
            if tail is not None and until_ts > tail.ts:
                readings.insert_gaps(
                    self._conn, self._sensors[key].id, [ledger.Gap(tail.ts, until_ts)], reason
                )

    def sensor(self, key: str) -> SensorRecord:
        sensor = self._sensors.get(key)
        if sensor is None:
            raise KeyError(f"reading for unknown sensor {key!r}")
        return sensor

    def write(self, batch: Batch) -> Written:
        """Store the batch's readings, gaps and spectra, each sensor's ledger continued or rewritten."""
        stored = rejected = gap_count = 0
        observed: Observed = defaultdict(list)
        light_by_sensor: dict[str, list[LightReading]] = defaultdict(list)
        temp_by_sensor: dict[str, list[TemperatureReading]] = defaultdict(list)
        for lr in batch.light:
            light_by_sensor[lr.sensor_key].append(lr)
        for tr in batch.temperature:
            temp_by_sensor[tr.sensor_key].append(tr)
        gaps_by_sensor: dict[str, list[ledger.Gap]] = defaultdict(list)
        for g in batch.gaps:
            sensor = self.sensor(g.sensor_key)
            gap = ledger.Gap(g.start_ts, g.end_ts)
            readings.insert_gaps(self._conn, sensor.id, [gap], g.reason)
            gaps_by_sensor[g.sensor_key].append(gap)
        for key in sorted({*light_by_sensor, *temp_by_sensor, *gaps_by_sensor}):
            sensor = self.sensor(key)
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
        return Written(stored, rejected, gap_count, observed)

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


def _ts(reading: Reading) -> float:
    return reading.ts
