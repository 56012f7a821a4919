"""Checking a database: SQLite's own integrity, the schema version, and every ledger against a recomputation.

The cumulative columns of the readings tables are the location ledgers the potency model reads (with the
one-minute aggregates kept past retention, whose doses must chain exactly). They are
written batch by batch as readings arrive; here they are recomputed from the stored readings alone, with
:func:`monitor.model.ledger.integrate` and the recorded gaps,
and compared. An interval longer than the sensor's
``max_gap_seconds`` with no gap recorded over it is a problem too: a gap must be said, never skipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from monitor.model import ledger
from monitor.model.quantities import Quantity, ledger_integrand
from monitor.store import retention, sites
from monitor.store.schema import SCHEMA_VERSION
from monitor.store.sites import SensorRecord

CHUNK_ROWS = 65_536  # readings recomputed at a time: a year of 1 Hz readings never sits in memory at once
# Batches sum in a different order than one pass over everything; their difference is rounding, far below
# what any reading could add (1 lx for 1 ms is 2.8e-7 lux·h).
RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-9

_TABLES: dict[Quantity, tuple[str, str, str]] = {
    "light": ("light_readings", "lux", "cum_lux_hours"),
    "temperature": ("temperature_readings", "celsius", "cum_equivalent_hours"),
}


@dataclass(frozen=True, slots=True)
class LedgerCheck:
    """One sensor's ledger against its recomputation."""

    sensor_key: str
    readings: int
    gaps: int
    max_difference: float  # largest |stored − recomputed| cumulative value, in the ledger's unit
    worst_ts: float | None  # where it is
    mismatches: int  # readings whose stored value is beyond rounding of the recomputed one
    unrecorded_gaps: int  # intervals longer than max_gap_seconds without a recorded gap

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.unrecorded_gaps == 0

    def problem(self) -> str | None:
        if self.ok:
            return None
        parts = []
        if self.mismatches:
            parts.append(
                f"{self.mismatches} stored ledger value(s) differ from the recomputation, by up to"
                f" {self.max_difference:.6g} (at ts {self.worst_ts})"
            )
        if self.unrecorded_gaps:
            parts.append(f"{self.unrecorded_gaps} interval(s) without data and without a recorded gap")
        return f"ledger of sensor {self.sensor_key}: " + "; ".join(parts)


@dataclass(frozen=True, slots=True)
class CheckReport:
    integrity: tuple[str, ...]  # PRAGMA integrity_check's answer: ("ok",) when the file is sound
    schema_version: int
    ledgers: tuple[LedgerCheck, ...]

    @property
    def problems(self) -> list[str]:
        out: list[str] = []
        if self.integrity != ("ok",):
            out.append("SQLite integrity check failed: " + "; ".join(self.integrity[:5]))
        if self.schema_version != SCHEMA_VERSION:
            out.append(
                f"schema version {self.schema_version}, this vialguard expects {SCHEMA_VERSION}"
                + (" (run the bridge once to migrate)" if self.schema_version < SCHEMA_VERSION else "")
            )
        out.extend(p for p in (c.problem() for c in self.ledgers) if p is not None)
        return out

    @property
    def ok(self) -> bool:
        return not self.problems


def integrity(conn: sqlite3.Connection) -> tuple[str, ...]:
    """SQLite's ``integrity_check``; a file too damaged to answer is reported, not raised."""
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return (str(exc),)
    return tuple(str(r[0]) for r in rows)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_database(conn: sqlite3.Connection) -> CheckReport:
    """Everything ``vialguard db check`` reports; the ledgers only if the file and schema are sound."""
    found = integrity(conn)
    version = schema_version(conn)
    ledgers: tuple[LedgerCheck, ...] = ()
    if found == ("ok",) and version == SCHEMA_VERSION:
        ledgers = tuple(check_ledger(conn, s) for s in sites.list_sensors(conn))
    return CheckReport(found, version, ledgers)


def _gaps(conn: sqlite3.Connection, sensor: SensorRecord) -> tuple[np.ndarray, np.ndarray]:
    rows = conn.execute(
        "SELECT start_ts, end_ts FROM gaps WHERE sensor_id = ? ORDER BY start_ts", (sensor.id,)
    ).fetchall()
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
    return arr[:, 0].copy(), arr[:, 1].copy()


def recorded_breaks(
    interval_starts: np.ndarray, interval_ends: np.ndarray, gap_starts: np.ndarray, gap_ends: np.ndarray
) -> np.ndarray:
    """Which intervals a recorded gap overlaps (gaps sorted by start and not overlapping each other)."""
    k = np.searchsorted(gap_starts, interval_ends, side="left") - 1
    found = k >= 0
    out = np.zeros(len(interval_starts), dtype=bool)
    out[found] = gap_ends[k[found]] > interval_starts[found]
    return out


def _chunks(conn: sqlite3.Connection, sensor: SensorRecord) -> Iterator[np.ndarray]:
    table, value, cum = _TABLES[sensor.quantity]
    cur = conn.execute(
        f"SELECT ts, {value}, {cum} FROM {table} WHERE sensor_id = ? ORDER BY ts", (sensor.id,)
    )
    while rows := cur.fetchmany(CHUNK_ROWS):
        yield np.asarray(rows, dtype=np.float64)


def check_ledger(conn: sqlite3.Connection, sensor: SensorRecord) -> LedgerCheck:
    """Recompute ``sensor``'s cumulative column from its readings and recorded gaps; compare."""
    gap_starts, gap_ends = _gaps(conn, sensor)
    tail: ledger.Tail | None = None
    count = unrecorded = mismatches = 0
    worst, worst_ts = 0.0, None
    # Minutes aggregated past retention: each dose must be its ledger's step, and the raw readings
    # continue from the last one.
    previous = 0.0
    for minute in retention.aggregates(conn, sensor.id):
        diff = abs(minute.cum_end - previous - minute.dose)
        if diff > ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * abs(minute.cum_end) or minute.dose < 0:
            mismatches += 1
            if diff >= worst:
                worst, worst_ts = diff, minute.last_ts
        previous = minute.cum_end
        count += minute.readings
        rate = ledger_integrand(sensor.quantity, np.array([minute.last_value], dtype=np.float64))
        tail = ledger.Tail(minute.last_ts, float(rate[0]), minute.cum_end)
    for chunk in _chunks(conn, sensor):
        ts, values, stored = chunk[:, 0], chunk[:, 1], chunk[:, 2]
        rate = ledger_integrand(sensor.quantity, values)
        starts = np.concatenate(([tail.ts], ts[:-1])) if tail is not None else ts[:-1]
        breaks = recorded_breaks(starts, ts if tail is not None else ts[1:], gap_starts, gap_ends)
        cum, missing = ledger.integrate(tail, ts, rate, sensor.max_gap_seconds, breaks=breaks)
        unrecorded += len(missing)
        diff = np.abs(cum - stored)
        mismatches += int(np.count_nonzero(diff > ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * np.abs(stored)))
        i = int(np.argmax(diff))
        if diff[i] > worst:
            worst, worst_ts = float(diff[i]), float(ts[i])
        # Carry on from the stored value, so one bad row is reported once and not smeared over the rest.
        tail = ledger.Tail(float(ts[-1]), float(rate[-1]), float(stored[-1]))
        count += len(ts)
    return LedgerCheck(sensor.key, count, len(gap_starts), worst, worst_ts, mismatches, unrecorded)
