"""Readings into central's partitioned tables, one statement per kind for a whole batch: inserted by their
natural key (site, sensor, time to the microsecond), so a reading sent twice is stored once; each light
reading also raises its hour's maximum, as the site keeps it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from fleet.protocol import Row

Connection = psycopg.Connection[tuple[Any, ...]]


# A reading's time to the microsecond (timestamptz's resolution), rounded in Python and added as an
# integer: to_timestamp(float8) rounds after shifting the epoch, one microsecond off now and then.
_AT_MICROSECOND = "timestamptz 'epoch' + u.ts * interval '1 microsecond'"


def microseconds(ts: float) -> int:
    """A site's time as central keeps it: whole microseconds since the Unix epoch."""
    return round(ts * 1e6)


def number_or_none(value: Any) -> float | None:
    """A JSON number as a float; anything else (null, text, a boolean) as None: SQL null."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def light(conn: Connection, site: str, rows: Sequence[Row], received: datetime) -> int:
    """Insert the light readings and raise their hours' maxima in one statement (one round trip: at a
    batch a second from each of 1,000 sites, a second statement per batch is what central cannot afford);
    the number of readings new here."""
    recs = [r.record for r in rows if r.record is not None]
    if not recs:
        return 0
    found = conn.execute(
        "WITH u AS (SELECT * FROM unnest(%s::text[], %s::int8[], %s::float8[], %s::bool[], %s::float8[])"
        "  AS u(sensor, ts, lux, saturated, cum)),"
        # Each hour's highest lux, as the site keeps it (a resent reading changes nothing: the greatest).
        " hours AS (INSERT INTO light_hour_maxima (site, sensor, hour_ts, max_lux)"
        "  SELECT %s, u.sensor, (u.ts / 3600000000) * 3600.0, max(coalesce(u.lux, 'Infinity')) FROM u"
        "  GROUP BY 2, 3 ON CONFLICT (site, sensor, hour_ts)"
        "  DO UPDATE SET max_lux = greatest(light_hour_maxima.max_lux, excluded.max_lux)),"
        " added AS (INSERT INTO light_readings (site, sensor, ts, lux, saturated, cum_lux_hours, received_at)"
        f"  SELECT %s, u.sensor, {_AT_MICROSECOND}, u.lux, u.saturated, u.cum, %s FROM u"
        "  ON CONFLICT DO NOTHING RETURNING 1)"
        " SELECT count(*) FROM added",
        (
            [str(r["sensor"]) for r in recs],
            [microseconds(float(r["ts"])) for r in recs],
            [number_or_none(r.get("lux")) for r in recs],
            [bool(r.get("saturated")) for r in recs],
            [number_or_none(r.get("cum_lux_hours")) for r in recs],
            site,
            site,
            received,
        ),
    ).fetchone()
    return 0 if found is None else int(found[0])


def temperature(conn: Connection, site: str, rows: Sequence[Row], received: datetime) -> int:
    recs = [r.record for r in rows if r.record is not None]
    if not recs:
        return 0
    cur = conn.execute(
        "INSERT INTO temperature_readings"
        " (site, sensor, ts, celsius, relative_humidity_percent, cum_equivalent_hours, received_at)"
        f" SELECT %s, u.sensor, {_AT_MICROSECOND}, u.celsius, u.rh, u.cum, %s"
        " FROM unnest(%s::text[], %s::int8[], %s::float8[], %s::float8[], %s::float8[])"
        " AS u(sensor, ts, celsius, rh, cum)"
        " ON CONFLICT DO NOTHING",
        (
            site,
            received,
            [str(r["sensor"]) for r in recs],
            [microseconds(float(r["ts"])) for r in recs],
            [number_or_none(r.get("celsius")) for r in recs],
            [number_or_none(r.get("relative_humidity_percent")) for r in recs],
            [number_or_none(r.get("cum_equivalent_hours")) for r in recs],
        ),
    )
    return cur.rowcount
