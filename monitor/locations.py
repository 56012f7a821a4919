"""A location at a glance: current light and temperature, mean kinetic temperature, cumulative dose."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from monitor.model import kinetics
from monitor.store import readings, sites
from monitor.store.sites import LocationRecord, SensorRecord

MKT_WINDOW_SECONDS = 86_400.0


@dataclass(frozen=True, slots=True)
class LocationSummary:
    location: LocationRecord
    as_of: float | None
    lux: float | None
    lux_saturated: bool
    celsius: float | None
    cumulative_lux_hours: float
    mean_kinetic_temperature_celsius: float | None  # over the last 24 h of data


def _covered_seconds(conn: sqlite3.Connection, sensor: SensorRecord, start: float, end: float) -> float:
    """Time in ``[start, end]`` not inside a recorded gap."""
    row = conn.execute(
        "SELECT COALESCE(SUM(MIN(end_ts, ?) - MAX(start_ts, ?)), 0) FROM gaps"
        " WHERE sensor_id = ? AND end_ts > ? AND start_ts < ?",
        (end, start, sensor.id, start, end),
    ).fetchone()
    return max(end - start - float(row[0]), 0.0)


def mean_kinetic_temperature(
    conn: sqlite3.Connection, sensor: SensorRecord, end: float, window_seconds: float = MKT_WINDOW_SECONDS
) -> float | None:
    """USP MKT in °C over the window ending at ``end``, from the thermal ledger; None without data."""
    first = (
        conn.execute(  # readings past retention are minute aggregates: the oldest data is there
            "SELECT first_ts FROM minute_aggregates WHERE sensor_id = ? ORDER BY minute_ts LIMIT 1",
            (sensor.id,),
        ).fetchone()
        or conn.execute(
            "SELECT MIN(ts) FROM temperature_readings WHERE sensor_id = ?", (sensor.id,)
        ).fetchone()
    )[0]
    if first is None:
        return None
    start = max(end - window_seconds, float(first))
    covered_hours = _covered_seconds(conn, sensor, start, end) / 3600.0
    equivalent = readings.cumulative_at(conn, sensor, end) - readings.cumulative_at(conn, sensor, start)
    if covered_hours <= 0 or equivalent <= 0:
        return None
    return kinetics.mean_kinetic_temperature_kelvin(equivalent, covered_hours) - kinetics.CELSIUS_TO_KELVIN


def summarise(conn: sqlite3.Connection, location: LocationRecord) -> LocationSummary:
    light = sites.primary_sensor(conn, location.id, "light")
    temp = sites.primary_sensor(conn, location.id, "temperature")
    lux_now = None if light is None else readings.latest(conn, light)
    temp_now = None if temp is None else readings.latest(conn, temp)
    light_tail = None if light is None else readings.tail(conn, light)
    as_of = max((x[0] for x in (lux_now, temp_now) if x is not None), default=None)
    return LocationSummary(
        location=location,
        as_of=as_of,
        lux=None if lux_now is None else lux_now[1],
        lux_saturated=False if lux_now is None else lux_now[2],
        celsius=None if temp_now is None else temp_now[1],
        cumulative_lux_hours=0.0 if light_tail is None else light_tail.cumulative,
        mean_kinetic_temperature_celsius=(
            None if temp is None or temp_now is None else mean_kinetic_temperature(conn, temp, temp_now[0])
        ),
    )
