"""Read-only queries over stored history for charts and reports: buckets, readings out of bounds, days.

Every query is bounded by a time range and reads through the ``(sensor_id, ts)`` primary key.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

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
    """Minimum and maximum of each local day in ``[start, end]`` (°C or lux, by the sensor)."""
    table, value = (
        ("light_readings", "lux") if sensor.quantity == "light" else ("temperature_readings", "celsius")
    )
    rows = conn.execute(
        f"SELECT CAST((ts + ?) / {SECONDS_PER_DAY} AS INTEGER) AS d, MIN({value}), MAX({value}), COUNT(*)"
        f" FROM {table} WHERE sensor_id = ? AND ts >= ? AND ts <= ? GROUP BY d ORDER BY d",
        (utc_offset_seconds, sensor.id, start, end),
    ).fetchall()
    return [DayExtremes(int(d), float(lo), float(hi), int(n)) for d, lo, hi, n in rows]


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
