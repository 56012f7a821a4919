"""A sensor's cumulative ledgers at many times, read in one statement per sensor.

The value at a time is the ledger's exact interpolation between the readings bracketing it
(:func:`monitor.model.ledger.value_at`, as :func:`monitor.store.readings.cumulative_at` and
:func:`monitor.store.spectral.ledgers_at` give it one time at a time). Each time's bracketing readings
are found by the primary key, so the cost is a couple of index probes per time whatever the history's
length. Times before the sensor's first raw reading (the span aggregated past retention) take the
one-time path, which knows the minute aggregates.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from monitor.model import ledger
from monitor.model.inputs import LedgerAt
from monitor.model.quantities import ledger_integrand, ledger_integrand_one
from monitor.store import readings, spectral
from monitor.store.sites import SensorRecord

Point = tuple[float, float, float]  # (ts, rate, cumulative), as ledger.value_at takes it
# A time, and the rows at or before and after it (None: no such row; (): to be re-read one time at a time)
Bracket = tuple[float, tuple[object, ...] | None, tuple[object, ...] | None]

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
) -> list[Bracket]:
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
    brackets: list[Bracket],
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


def _point(sensor: SensorRecord, row: tuple[object, ...]) -> Point:
    """``(ts, value, cumulative)`` as stored, as ``(ts, rate, cumulative)``."""
    ts, value, cumulative = (float(x) for x in row)  # type: ignore[arg-type]  # REAL columns
    return ts, ledger_integrand_one(sensor.quantity, value), cumulative


_MINUTES = """
    WITH q(i, t) AS (SELECT key, value FROM json_each(?2))
    SELECT q.i, a.last_ts, a.last_value, a.cum_end, a.dose FROM q
    LEFT JOIN minute_aggregates a ON a.sensor_id = ?1 AND a.minute_ts = (SELECT minute_ts
        FROM minute_aggregates WHERE sensor_id = ?1 AND minute_ts <= q.t ORDER BY minute_ts DESC LIMIT 1)
    ORDER BY q.i
"""


def _before_raw(
    conn: sqlite3.Connection, sensor: SensorRecord, brackets: list[Bracket]
) -> dict[float, float]:
    """The ledger at the times before the sensor's first raw reading, from the minutes aggregated past
    retention, as :func:`monitor.store.readings.cumulative_at` reads them: inside the aggregated span, its
    value at the last reading of the minute before; after it, interpolated to the first raw reading.

    One probe a time: the minute a time falls in, or its predecessor's value, which that minute holds as
    its ``cum_end`` less its ``dose`` (the exact increment since the row before)."""
    early = [t for t, before, _ in brackets if before is None]
    if not early:
        return {}
    newest = conn.execute(
        "SELECT last_ts FROM minute_aggregates WHERE sensor_id = ? ORDER BY minute_ts DESC LIMIT 1",
        (sensor.id,),
    ).fetchone()
    if newest is None:  # nothing aggregated: before the first reading, nothing accumulated
        return dict.fromkeys(early, 0.0)
    after_raw = {t: after for t, before, after in brackets if before is None}
    out: dict[float, float] = {}
    rows = conn.execute(_MINUTES, (sensor.id, json.dumps(early))).fetchall()
    for t, (_, last_ts, last_value, cum_end, dose) in zip(early, rows, strict=True):
        if last_ts is None:  # before the first minute
            out[t] = 0.0
        elif float(newest[0]) > t:  # inside the aggregated span
            out[t] = float(cum_end) if float(last_ts) <= t else float(cum_end) - float(dose)
        else:  # between the last minute and the first raw reading
            after = after_raw[t]
            out[t] = ledger.value_at(
                t,
                _point(sensor, (last_ts, last_value, cum_end)),
                None if not after else _point(sensor, after),
                sensor.max_gap_seconds,
            )
    return out


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
    # Times before the first raw reading (the span aggregated past retention: most of a year-long curve)
    # all have none before and that reading after: one query for them all, the minutes do the rest.
    first = conn.execute(
        f"SELECT ts, {value}, {cum} FROM {table} WHERE sensor_id = ? ORDER BY ts LIMIT 1", (sensor.id,)
    ).fetchone()
    split = len(ordered) if first is None else bisect.bisect_left(ordered, float(first[0]))
    head: list[Bracket] = [(t, None, None if first is None else tuple(first)) for t in ordered[:split]]
    brackets = head + (_brackets(conn, table, (value, cum), sensor.id, ordered[split:]) if first else [])
    early = _before_raw(conn, sensor, brackets)
    # Each stored value's integrand once, as one array: a curve's thousand points cost one numpy call.
    stored = sorted({float(row[1]) for _, b, a in brackets for row in (b, a) if row})  # type: ignore[arg-type]
    rate = dict(zip(stored, ledger_integrand(sensor.quantity, np.array(stored)).tolist(), strict=True))

    def point(row: tuple[object, ...]) -> Point:
        ts, v, c = (float(x) for x in row)  # type: ignore[arg-type]  # REAL columns
        return ts, rate[v], c

    return _sample(
        ordered,
        brackets,
        point,
        sensor.max_gap_seconds,
        lambda t: readings.cumulative_at(conn, sensor, t),
        early.__getitem__,
    )


@dataclass(frozen=True, slots=True)
class SpectralLedgers:
    """A spectral or UV sensor's ledgers at the sampled times."""

    spectral_lux: LedgerAt  # lux·h where κ_s is known
    kappa_lux: LedgerAt  # κ_s·lux·h
    near_uv: LedgerAt  # W·h/m²
    spectrum: LedgerAt  # times × channels: W·h m⁻² nm⁻¹ at each filter peak (migration 21)


def spectral_ledgers_at(
    conn: sqlite3.Connection, sensor: SensorRecord, times: Sequence[float]
) -> SpectralLedgers:
    """A spectral or UV sensor's ledgers at each of ``times``."""
    ordered = sorted(set(times))
    if not ordered:
        empty = LedgerAt.empty()
        return SpectralLedgers(empty, empty, empty, LedgerAt(np.empty(0), np.empty((0, spectral.CHANNELS))))
    columns = (*spectral.ROW_COLUMNS, *spectral.LEDGER_COLUMNS)
    brackets = _brackets(conn, "spectral_readings", columns, sensor.id, ordered)
    width = len(spectral.ROW_COLUMNS)
    rates: dict[float, tuple[float, ...]] = {}  # by row time: each bracketing row's integrands once
    values = np.zeros((len(ordered), len(spectral.LEDGER_COLUMNS)))
    for i, (t, before, after) in enumerate(brackets):
        if before == ():  # a bracket to re-read
            one = spectral.ledgers_at(conn, sensor, t)
            values[i] = (
                one.spectral_lux_hours,
                one.kappa_lux_hours,
                one.near_uv_wh_per_m2,
                *one.spectrum_wh_per_m2_nm,
            )
            continue
        if before is None:  # no reading before: nothing accumulated yet (spectral rows are never aggregated)
            continue
        points: list[tuple[float, tuple[float, ...], tuple[object, ...]] | None] = []
        for row in (before, after):
            if row is None:
                points.append(None)
                continue
            ts = float(row[0])  # type: ignore[arg-type]  # REAL column
            if ts not in rates:
                rates[ts] = spectral.row_rates(row[1 : 1 + width])
            points.append((ts, rates[ts], row[1 + width :]))
        b, a = points
        assert b is not None  # found above
        for j in range(values.shape[1]):
            values[i, j] = ledger.value_at(
                t,
                (b[0], b[1][j], float(b[2][j])),  # type: ignore[arg-type]  # REAL columns
                None if a is None else (a[0], a[1][j], float(a[2][j])),  # type: ignore[arg-type]
                sensor.max_gap_seconds,
            )
    at = np.asarray(ordered, dtype=np.float64)
    return SpectralLedgers(
        LedgerAt(at, values[:, 0]),
        LedgerAt(at, values[:, 1]),
        LedgerAt(at, values[:, 2]),
        LedgerAt(at, values[:, 3:]),
    )
