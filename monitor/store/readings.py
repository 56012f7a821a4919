"""Light and temperature readings, each row carrying the location ledger's cumulative value at its time."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from typing import Protocol

from monitor.model import ledger
from monitor.model.quantities import Quantity, ledger_integrand_one
from monitor.store.sites import SensorRecord

# Per quantity: the table, its value column (units in the name) and its cumulative column.
_TABLES: dict[Quantity, tuple[str, str, str]] = {
    "light": ("light_readings", "lux", "cum_lux_hours"),
    "temperature": ("temperature_readings", "celsius", "cum_equivalent_hours"),
}


class LuxRow(Protocol):
    """What a light_readings row is written from: the fields of a :class:`monitor.batch.LightReading`.

    A protocol rather than the batch's type: :mod:`monitor.batch` builds on the store, not the reverse."""

    @property
    def ts(self) -> float: ...
    @property
    def lux(self) -> float: ...
    @property
    def saturated(self) -> bool: ...
    @property
    def raw_counts(self) -> tuple[int, ...]: ...
    @property
    def gain(self) -> float | None: ...
    @property
    def integration_ms(self) -> float | None: ...


class CelsiusRow(Protocol):
    """What a temperature_readings row is written from: the fields of a
    :class:`monitor.batch.TemperatureReading`."""

    @property
    def ts(self) -> float: ...
    @property
    def celsius(self) -> float: ...
    @property
    def relative_humidity_percent(self) -> float | None: ...


def _counts_json(counts: tuple[int, ...]) -> str | None:
    # A JSON array written by hand: json.dumps costs several times more, once per reading.
    return f"[{','.join(map(str, counts))}]" if counts else None


def insert_light(
    conn: sqlite3.Connection, sensor_id: int, rows: Sequence[LuxRow], cum_lux_hours: Sequence[float]
) -> int:
    """Insert readings with the ledger's value at each; a reading already stored (same sensor and time)
    is left as it was. Returns the rows added.

    Rows go straight from the readings to ``executemany``, with no object in between: on a back-fill of
    a microcontroller's buffer this is the innermost loop of ingest.
    """
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO light_readings"
        " (sensor_id, ts, lux, saturated, raw_counts, gain, integration_ms, cum_lux_hours)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (sensor_id, r.ts, r.lux, r.saturated, _counts_json(r.raw_counts), r.gain, r.integration_ms, c)
            for r, c in zip(rows, cum_lux_hours, strict=True)
        ],
    )
    added = conn.total_changes - before
    _raise_hour_maxima(conn, sensor_id, rows)
    return added


SECONDS_PER_HOUR = 3600.0


def hour_of(ts: float) -> float:
    """The start of the clock hour (UTC) holding ``ts``."""
    return math.floor(ts / SECONDS_PER_HOUR) * SECONDS_PER_HOUR


def _raise_hour_maxima(conn: sqlite3.Connection, sensor_id: int, rows: Sequence[LuxRow]) -> None:
    """Keep ``light_hour_maxima`` at the highest lux of each clock hour (one row per hour: a couple of
    bytes a reading's batch, read by the bound on unseen light instead of the readings themselves)."""
    highest: dict[float, float] = {}
    for r in rows:
        hour = hour_of(r.ts)
        if r.lux > highest.get(hour, -math.inf):
            highest[hour] = r.lux
    conn.executemany(
        "INSERT INTO light_hour_maxima (sensor_id, hour_ts, max_lux) VALUES (?, ?, ?)"
        " ON CONFLICT (sensor_id, hour_ts) DO UPDATE SET max_lux = MAX(max_lux, excluded.max_lux)",
        [(sensor_id, hour, lux) for hour, lux in highest.items()],
    )


def highest_lux(conn: sqlite3.Connection, sensor: SensorRecord, start: float, end: float) -> float | None:
    """The highest lux recorded in the clock hours that ``[start, end]`` touches (whole hours: a bound at
    least as high as the readings inside it); ``None`` when the sensor recorded nothing there."""
    row = conn.execute(
        "SELECT MAX(max_lux) FROM light_hour_maxima WHERE sensor_id = ? AND hour_ts >= ? AND hour_ts <= ?",
        (sensor.id, hour_of(start), end),
    ).fetchone()
    return None if row[0] is None else float(row[0])


def insert_temperature(
    conn: sqlite3.Connection,
    sensor_id: int,
    rows: Sequence[CelsiusRow],
    cum_equivalent_hours: Sequence[float],
) -> int:
    """As :func:`insert_light`, for temperature readings and the thermal ledger."""
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO temperature_readings"
        " (sensor_id, ts, celsius, relative_humidity_percent, cum_equivalent_hours) VALUES (?, ?, ?, ?, ?)",
        [
            (sensor_id, r.ts, r.celsius, r.relative_humidity_percent, c)
            for r, c in zip(rows, cum_equivalent_hours, strict=True)
        ],
    )
    return conn.total_changes - before


def insert_gaps(conn: sqlite3.Connection, sensor_id: int, gaps: Sequence[ledger.Gap], reason: str) -> None:
    conn.executemany(
        "INSERT INTO gaps (sensor_id, start_ts, end_ts, reason) VALUES (?, ?, ?, ?)",
        [(sensor_id, g.start, g.end, reason) for g in gaps],
    )


def tail(conn: sqlite3.Connection, sensor: SensorRecord) -> ledger.Tail | None:
    """The last stored point of a sensor's ledger: time, integrand rate and cumulative value."""
    table, value, cum = _TABLES[sensor.quantity]
    row = (
        conn.execute(
            f"SELECT ts, {value}, {cum} FROM {table} WHERE sensor_id = ? ORDER BY ts DESC LIMIT 1",
            (sensor.id,),
        ).fetchone()
        or conn.execute(  # every reading aggregated past retention: the ledger goes on from there
            "SELECT last_ts, last_value, cum_end FROM minute_aggregates WHERE sensor_id = ?"
            " ORDER BY minute_ts DESC LIMIT 1",
            (sensor.id,),
        ).fetchone()
    )
    if row is None:
        return None
    return ledger.Tail(float(row[0]), ledger_integrand_one(sensor.quantity, float(row[1])), float(row[2]))


def latest(conn: sqlite3.Connection, sensor: SensorRecord) -> tuple[float, float, bool] | None:
    """The newest reading as ``(ts, value, saturated)``."""
    table, value, _ = _TABLES[sensor.quantity]
    saturated = "saturated" if sensor.quantity == "light" else "0"
    row = conn.execute(
        f"SELECT ts, {value}, {saturated} FROM {table} WHERE sensor_id = ? ORDER BY ts DESC LIMIT 1",
        (sensor.id,),
    ).fetchone()
    return None if row is None else (float(row[0]), float(row[1]), bool(row[2]))


def cumulative_at(conn: sqlite3.Connection, sensor: SensorRecord, ts: float) -> float:
    """The sensor's ledger value at ``ts``, interpolated exactly between the bracketing readings (in the
    span aggregated past retention: its value at the last reading of the minute before, see
    :mod:`monitor.store.retention`)."""
    table, value, cum = _TABLES[sensor.quantity]
    before = conn.execute(
        f"SELECT ts, {value}, {cum} FROM {table} WHERE sensor_id = ? AND ts <= ? ORDER BY ts DESC LIMIT 1",
        (sensor.id, ts),
    ).fetchone()
    after = conn.execute(
        f"SELECT ts, {value}, {cum} FROM {table} WHERE sensor_id = ? AND ts > ? ORDER BY ts ASC LIMIT 1",
        (sensor.id, ts),
    ).fetchone()

    def point(row: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
        if row is None:
            return None
        return float(row[0]), ledger_integrand_one(sensor.quantity, float(row[1])), float(row[2])

    if before is None:  # before the raw readings: the minutes aggregated past retention, if any
        before = conn.execute(
            "SELECT last_ts, last_value, cum_end FROM minute_aggregates WHERE sensor_id = ? AND last_ts <= ?"
            " ORDER BY minute_ts DESC LIMIT 1",
            (sensor.id, ts),
        ).fetchone()
        later_minute = conn.execute(
            "SELECT 1 FROM minute_aggregates WHERE sensor_id = ? AND last_ts > ? LIMIT 1", (sensor.id, ts)
        ).fetchone()
        if later_minute is not None:  # inside the aggregated span: exact at each minute's last reading
            return 0.0 if before is None else float(before[2])
    return ledger.value_at(ts, point(before), point(after), sensor.max_gap_seconds)


def series(
    conn: sqlite3.Connection, sensor: SensorRecord, start: float, end: float, limit: int = 10_000
) -> list[tuple[float, float]]:
    """``(ts, value)`` pairs in ``[start, end]``, oldest first."""
    table, value, _ = _TABLES[sensor.quantity]
    rows = conn.execute(
        f"SELECT ts, {value} FROM {table} WHERE sensor_id = ? AND ts BETWEEN ? AND ? ORDER BY ts LIMIT ?",
        (sensor.id, start, end, limit),
    ).fetchall()
    return [(float(t), float(v)) for t, v in rows]


def count(conn: sqlite3.Connection, sensor: SensorRecord) -> int:
    table, _, _ = _TABLES[sensor.quantity]
    return int(conn.execute(f"SELECT COUNT(*) FROM {table} WHERE sensor_id = ?", (sensor.id,)).fetchone()[0])


# -- rewriting a stretch of the ledger (late readings, readings known lost) ------------------------------


def anchor_before(conn: sqlite3.Connection, sensor: SensorRecord, ts: float) -> ledger.Tail | None:
    """The last stored point strictly before ``ts``: where a re-integration from ``ts`` starts."""
    table, value, cum = _TABLES[sensor.quantity]
    row = conn.execute(
        f"SELECT ts, {value}, {cum} FROM {table} WHERE sensor_id = ? AND ts < ? ORDER BY ts DESC LIMIT 1",
        (sensor.id, ts),
    ).fetchone()
    if row is None:
        return None
    return ledger.Tail(float(row[0]), ledger_integrand_one(sensor.quantity, float(row[1])), float(row[2]))


def set_cumulative(
    conn: sqlite3.Connection, sensor: SensorRecord, points: Sequence[tuple[float, float]]
) -> None:
    """Overwrite the cumulative column at each ``(ts, cumulative)``."""
    table, _, cum = _TABLES[sensor.quantity]
    conn.executemany(
        f"UPDATE {table} SET {cum} = ? WHERE sensor_id = ? AND ts = ?",
        [(c, sensor.id, t) for t, c in points],
    )


def delete_gaps_after(conn: sqlite3.Connection, sensor_id: int, ts: float, reason: str) -> None:
    """Drop gaps of ``reason`` ending after ``ts``: a re-integration finds them again."""
    conn.execute(
        "DELETE FROM gaps WHERE sensor_id = ? AND end_ts > ? AND reason = ?", (sensor_id, ts, reason)
    )


def known_gaps(
    conn: sqlite3.Connection, sensor_id: int, after_ts: float, except_reason: str
) -> list[ledger.Gap]:
    """Recorded gaps ending after ``after_ts`` other than ``except_reason`` (e.g. frames known lost)."""
    rows = conn.execute(
        "SELECT start_ts, end_ts FROM gaps WHERE sensor_id = ? AND end_ts > ? AND reason != ?",
        (sensor_id, after_ts, except_reason),
    ).fetchall()
    return [ledger.Gap(float(a), float(b)) for a, b in rows]
