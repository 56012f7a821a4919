"""A sensor's cumulative ledgers at many times, read in one statement per sensor.

The value at a time is the ledger's exact interpolation between the readings bracketing it
(:func:`monitor.model.ledger.value_at`, as :func:`monitor.store.readings.cumulative_at` and
:func:`monitor.store.spectral.ledgers_at` give it one time at a time). Each time's bracketing readings
are found by the primary key, so the cost is a couple of index probes per time whatever the history's
length. Times before the sensor's first raw reading (the span aggregated past retention) take the
one-time path, which knows the minute aggregates.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence

import numpy as np

from monitor.model import ledger
from monitor.model.inputs import LedgerAt
from monitor.model.quantities import ledger_integrand_one
from monitor.store import readings, spectral
from monitor.store.sites import SensorRecord

Point = tuple[float, float, float]  # (ts, rate, cumulative), as ledger.value_at takes it

_BRACKETS = """
    WITH q(t) AS (SELECT value FROM json_each(?2))
    SELECT q.t, b.ts, {b}, a.ts, {a} FROM q
    LEFT JOIN {table} b ON b.sensor_id = ?1
        AND b.ts = (SELECT ts FROM {table} WHERE sensor_id = ?1 AND ts <= q.t ORDER BY ts DESC LIMIT 1)
    LEFT JOIN {table} a ON a.sensor_id = ?1
        AND a.ts = (SELECT ts FROM {table} WHERE sensor_id = ?1 AND ts > q.t ORDER BY ts LIMIT 1)
"""


def _brackets(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], sensor_id: int, times: list[float]
) -> list[tuple[float, tuple[object, ...] | None, tuple[object, ...] | None]]:
    """Per time: the readings at or before it and after it (their ``columns`` after ``ts``), or None."""
    b = ", ".join(f"b.{c}" for c in columns)
    a = ", ".join(f"a.{c}" for c in columns)
    sql = _BRACKETS.format(table=table, b=b, a=a)
    rows = conn.execute(sql, (sensor_id, json.dumps(times))).fetchall()
    width = len(columns) + 1
    out = []
    for t, row in zip(times, rows, strict=True):
        before, after = row[1 : 1 + width], row[1 + width :]
        found_before = None if before[0] is None else tuple(before)
        found_after = None if after[0] is None else tuple(after)
        # JSON carries each time exactly as repr writes it; should a reader round it differently, a
        # bracket would be off by one at a reading's own time: those times take the one-time path.
        if (found_before is not None and float(before[0]) > t) or (
            found_after is not None and float(after[0]) <= t
        ):
            found_before, found_after = (), ()
        out.append((t, found_before, found_after))
    return out


def _sample(
    times: list[float],
    brackets: list[tuple[float, tuple[object, ...] | None, tuple[object, ...] | None]],
    point: Callable[[tuple[object, ...]], Point],
    max_gap_seconds: float,
    one_time: Callable[[float], float],
    before_first: Callable[[float], float],
) -> LedgerAt:
    values = []
    for t, before, after in brackets:
        if before == ():  # a bracket to re-read
            values.append(one_time(t))
            continue
        if before is None:
            values.append(before_first(t))
            continue
        values.append(
            ledger.value_at(t, point(before), None if after is None else point(after), max_gap_seconds)
        )
    return LedgerAt(np.asarray(times, dtype=np.float64), np.asarray(values, dtype=np.float64))


def reading_ledger_at(conn: sqlite3.Connection, sensor: SensorRecord, times: Sequence[float]) -> LedgerAt:
    """A light (lux·h) or temperature (equivalent hours) sensor's ledger at each of ``times``."""
    ordered = sorted(set(times))
    if not ordered:
        return LedgerAt.empty()
    table, value = {
        "light": ("light_readings", "lux"),
        "temperature": ("temperature_readings", "celsius"),
    }[sensor.quantity]
    cum = "cum_lux_hours" if sensor.quantity == "light" else "cum_equivalent_hours"
    brackets = _brackets(conn, table, (value, cum), sensor.id, ordered)

    def point(row: tuple[object, ...]) -> Point:
        ts, v, c = row
        return float(ts), ledger_integrand_one(sensor.quantity, float(v)), float(c)  # type: ignore[arg-type]

    return _sample(
        ordered,
        brackets,
        point,
        sensor.max_gap_seconds,
        lambda t: readings.cumulative_at(conn, sensor, t),
        lambda t: readings.cumulative_at(conn, sensor, t),  # minutes aggregated past retention, if any
    )


_SPECTRAL = (
    "lux",
    "kappa",
    "near_uv_w_per_m2",
    "cum_spectral_lux_hours",
    "cum_kappa_lux_hours",
    "cum_near_uv_wh_per_m2",
)


def spectral_ledgers_at(
    conn: sqlite3.Connection, sensor: SensorRecord, times: Sequence[float]
) -> tuple[LedgerAt, LedgerAt, LedgerAt]:
    """A spectral or UV sensor's three ledgers (lux·h where κ_s is known, κ_s·lux·h, near-UV W·h/m²)
    at each of ``times``."""
    ordered = sorted(set(times))
    if not ordered:
        return LedgerAt.empty(), LedgerAt.empty(), LedgerAt.empty()
    brackets = _brackets(conn, "spectral_readings", _SPECTRAL, sensor.id, ordered)
    out = []
    for j, name in enumerate(("spectral_lux_hours", "kappa_lux_hours", "near_uv_wh_per_m2")):

        def point(row: tuple[object, ...], j: int = j) -> Point:
            ts, lux, kappa, near_uv, *cumulative = row
            rates = spectral.ledger_rates(float(lux), kappa, near_uv)  # type: ignore[arg-type]
            return float(ts), rates[j], float(cumulative[j])  # type: ignore[arg-type]

        def one_time(t: float, name: str = name) -> float:
            return float(getattr(spectral.ledgers_at(conn, sensor, t), name))

        # No reading before a time: nothing accumulated yet (spectral readings are never aggregated).
        out.append(_sample(ordered, brackets, point, sensor.max_gap_seconds, one_time, lambda t: 0.0))
    return out[0], out[1], out[2]
