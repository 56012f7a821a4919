"""Read-only queries over stored history for charts and reports: buckets, readings out of bounds, days.

Every query is bounded by a time range and reads through the ``(sensor_id, ts)`` primary key. Past the
raw retention period a sensor's readings are one-minute aggregates (``monitor.store.retention``); the
report queries read those too: daily extremes from each minute's minimum and maximum, and the minutes whose
extreme is out of bounds (:func:`aggregated_outside`), which the episodes take as out of bounds throughout,
so an excursion or a door opening there is found with its duration to the minute (an upper bound). Charts
read raw readings only: they show recent days.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from monitor.episodes import Span
from monitor.store.sites import SensorRecord

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class LightBucket:
    start: float  # the bucket's start; buckets without readings are absent
    lux_min: float
    lux_max: float
    cum_lux_hours: float  # the location ledger at the bucket's last reading
    saturated: bool  # some reading in the bucket is only a lower bound


@dataclass(frozen=True, slots=True)
class TemperatureBucket:
    start: float
    celsius_min: float
    celsius_max: float
    celsius_mean: float


@dataclass(frozen=True, slots=True)
class DayExtremes:
    day: int  # days since 1970-01-01 in the report's time zone
    minimum: float
    maximum: float
    readings: int


def light_buckets(
    conn: sqlite3.Connection, sensor: SensorRecord, start: float, end: float, bucket_seconds: float
) -> list[LightBucket]:
    rows = conn.execute(
        "SELECT CAST((ts - ?) / ? AS INTEGER) AS b, MIN(lux), MAX(lux), MAX(cum_lux_hours), MAX(saturated)"
        " FROM light_readings WHERE sensor_id = ? AND ts >= ? AND ts <= ? GROUP BY b ORDER BY b",
        (start, bucket_seconds, sensor.id, start, end),
    ).fetchall()
    return [
        LightBucket(start + int(b) * bucket_seconds, float(lo), float(hi), float(cum), bool(sat))
        for b, lo, hi, cum, sat in rows
    ]


def temperature_buckets(
    conn: sqlite3.Connection, sensor: SensorRecord, start: float, end: float, bucket_seconds: float
) -> list[TemperatureBucket]:
    rows = conn.execute(
        "SELECT CAST((ts - ?) / ? AS INTEGER) AS b, MIN(celsius), MAX(celsius), AVG(celsius)"
        " FROM temperature_readings WHERE sensor_id = ? AND ts >= ? AND ts <= ? GROUP BY b ORDER BY b",
        (start, bucket_seconds, sensor.id, start, end),
    ).fetchall()
    return [
        TemperatureBucket(start + int(b) * bucket_seconds, float(lo), float(hi), float(mean))
        for b, lo, hi, mean in rows
    ]


def aggregated_outside(
    conn: sqlite3.Connection,
    sensor: SensorRecord,
    start: float,
    end: float,
    bound: float,
    side: Literal["at-or-above", "above", "below"],
) -> list[Span]:
    """The aggregated minutes in ``[start, end]`` with a value at or above, above or below ``bound``, as
    spans taken as outside it throughout: ``(first_ts, last_ts, the minute's extreme, readings)``."""
    value, op = {
        "at-or-above": ("max_value", ">="),
        "above": ("max_value", ">"),
        "below": ("min_value", "<"),
    }[side]
    rows = conn.execute(
        # The minute_ts range keeps it a primary-key range scan: the glance asks every few seconds.
        f"SELECT first_ts, last_ts, {value}, readings FROM minute_aggregates WHERE sensor_id = ?"
        f" AND minute_ts >= ? AND minute_ts <= ? AND first_ts >= ? AND last_ts <= ? AND {value} {op} ?"
        f" ORDER BY minute_ts",
        (sensor.id, start - 60.0, end, start, end, bound),
    ).fetchall()
    return [(float(f), float(t), float(v), int(n)) for f, t, v, n in rows]


def light_at_or_above(
    conn: sqlite3.Connection, sensor: SensorRecord, start: float, end: float, lux: float
) -> list[tuple[float, float]]:
    """``(ts, lux)`` of the readings in ``[start, end]`` at or above ``lux``, oldest first."""
    rows = conn.execute(
        "SELECT ts, lux FROM light_readings WHERE sensor_id = ? AND ts >= ? AND ts <= ? AND lux >= ?"
        " ORDER BY ts",
        (sensor.id, start, end, lux),
    ).fetchall()
    return [(float(t), float(v)) for t, v in rows]


def temperature_outside(
    conn: sqlite3.Connection, sensor: SensorRecord, start: float, end: float, low: float, high: float
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Readings in ``[start, end]`` below ``low`` and above ``high``, as two lists of ``(ts, °C)``."""
    rows = conn.execute(
        "SELECT ts, celsius FROM temperature_readings WHERE sensor_id = ? AND ts >= ? AND ts <= ?"
        " AND (celsius < ? OR celsius > ?) ORDER BY ts",
        (sensor.id, start, end, low, high),
    ).fetchall()
    below = [(float(t), float(c)) for t, c in rows if c < low]
    above = [(float(t), float(c)) for t, c in rows if c > high]
    return below, above


def daily_extremes(
    conn: sqlite3.Connection, sensor: SensorRecord, start: float, end: float, utc_offset_seconds: float
) -> list[DayExtremes]:
    """Minimum and maximum of each local day in ``[start, end]`` (°C or lux, by the sensor), from the raw
    readings and the minutes aggregated past retention (a day at the boundary has both)."""
    table, value = (
        ("light_readings", "lux") if sensor.quantity == "light" else ("temperature_readings", "celsius")
    )
    old = conn.execute(
        f"SELECT CAST((first_ts + ?) / {SECONDS_PER_DAY} AS INTEGER) AS d, MIN(min_value), MAX(max_value),"
        f" SUM(readings) FROM minute_aggregates WHERE sensor_id = ? AND minute_ts >= ? AND minute_ts <= ?"
        f" AND first_ts >= ? AND last_ts <= ? GROUP BY d",
        (utc_offset_seconds, sensor.id, start - 60.0, end, start, end),
    ).fetchall()
    raw = conn.execute(
        f"SELECT CAST((ts + ?) / {SECONDS_PER_DAY} AS INTEGER) AS d, MIN({value}), MAX({value}), COUNT(*)"
        f" FROM {table} WHERE sensor_id = ? AND ts >= ? AND ts <= ? GROUP BY d",
        (utc_offset_seconds, sensor.id, start, end),
    ).fetchall()
    days: dict[int, DayExtremes] = {}
    for d, lo, hi, n in [*old, *raw]:
        seen = days.get(int(d))
        if seen is not None:
            lo, hi, n = min(seen.minimum, lo), max(seen.maximum, hi), seen.readings + n
        days[int(d)] = DayExtremes(int(d), float(lo), float(hi), int(n))
    return [days[d] for d in sorted(days)]


def gap_seconds(conn: sqlite3.Connection, sensor: SensorRecord, start: float, end: float) -> float:
    """Time in ``[start, end]`` inside a recorded gap (no data)."""
    row = conn.execute(
        "SELECT COALESCE(SUM(MIN(end_ts, ?) - MAX(start_ts, ?)), 0) FROM gaps"
        " WHERE sensor_id = ? AND end_ts > ? AND start_ts < ?",
        (end, start, sensor.id, start, end),
    ).fetchone()
    return float(row[0])


def alert_ids_between(
    conn: sqlite3.Connection,
    start: float,
    end: float,
    *,
    location_id: int | None = None,
    vial_id: int | None = None,
) -> list[int]:
    """Alerts active at some time in ``[start, end]`` (fired by its end, not resolved before its start)."""
    sql = "SELECT id FROM alerts WHERE fired_ts <= ? AND (ended_ts IS NULL OR ended_ts >= ?)"
    args: list[object] = [end, start]
    if location_id is not None:
        sql += " AND location_id = ?"
        args.append(location_id)
    if vial_id is not None:
        sql += " AND vial_id = ?"
        args.append(vial_id)
    return [int(r[0]) for r in conn.execute(sql + " ORDER BY fired_ts, id", args)]
