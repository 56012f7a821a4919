"""A location's light and temperature series for charts, computed at central from its copy of the site's
readings, as the site computes it (:func:`monitor.series.location_series`): the same buckets (bucket ``b``
holds the readings with ``int((ts - start) / width) == b``), aggregated here by PostgreSQL, and the same
assembly (:func:`monitor.series.series_of`) with the light ledger at the window's ends read as the model's
loader reads it (:func:`fleet.central.sensor_reads.ledgers`, :func:`monitor.model.ledger.value_at`).
"""

from __future__ import annotations

from typing import Any

import psycopg

from fleet.central import sensor_reads, site_history
from fleet.central.site_config import as_site_sensor
from monitor.series import LocationSeries, bucket_seconds, series_of
from monitor.store.history import LightBucket, TemperatureBucket
from monitor.store.sites import LocationRecord, SensorRecord

Connection = psycopg.Connection[tuple[Any, ...]]

_BUCKET = "floor((extract(epoch FROM ts)::float8 - %(start)s) / %(width)s)::int8"
_WINDOW = f"site = %(site)s AND sensor = %(sensor)s AND {site_history.PERIOD}"


def _light(
    conn: Connection, site: str, sensor: SensorRecord, start: float, end: float, width: float
) -> list[LightBucket]:
    rows = conn.execute(
        f"SELECT {_BUCKET} AS b, min(lux), max(lux), max(cum_lux_hours), bool_or(saturated)"
        f" FROM light_readings WHERE {_WINDOW} GROUP BY b ORDER BY b",
        {
            "site": site,
            "sensor": sensor.key,
            "start": start,
            "width": width,
            **site_history.period(start, end),
        },
    ).fetchall()
    return [
        LightBucket(start + int(b) * width, float(lo), float(hi), float(cum), bool(sat))
        for b, lo, hi, cum, sat in rows
        if lo is not None and cum is not None  # not finite at the site: no lux to chart
    ]


def _temperature(
    conn: Connection, site: str, sensor: SensorRecord, start: float, end: float, width: float
) -> list[TemperatureBucket]:
    rows = conn.execute(
        f"SELECT {_BUCKET} AS b, min(celsius), max(celsius), avg(celsius)"
        f" FROM temperature_readings WHERE {_WINDOW} GROUP BY b ORDER BY b",
        {
            "site": site,
            "sensor": sensor.key,
            "start": start,
            "width": width,
            **site_history.period(start, end),
        },
    ).fetchall()
    return [
        TemperatureBucket(start + int(b) * width, float(lo), float(hi), float(mean))
        for b, lo, hi, mean in rows
        if lo is not None
    ]


def _ledger(
    conn: Connection, site: str, sensor: SensorRecord, start: float, end: float
) -> tuple[float, float]:
    values = sensor_reads.ledgers(conn, site, "light", {as_site_sensor(sensor): [start, end]})[
        sensor.key
    ].values
    return float(values[0]), float(values[1])


def location_series(
    conn: Connection,
    site: str,
    location: LocationRecord,
    light: SensorRecord | None,
    temperature: SensorRecord | None,
    start: float,
    end: float,
    buckets: int,
) -> LocationSeries:
    """The series of ``location`` (its light and temperature ledgers' sensors) over ``[start, end]``."""
    width = bucket_seconds(start, end, buckets)
    return series_of(
        location,
        start,
        end,
        width,
        None if light is None else _light(conn, site, light, start, end, width),
        (0.0, 0.0) if light is None else _ledger(conn, site, light, start, end),
        [] if temperature is None else _temperature(conn, site, temperature, start, end, width),
    )
