"""Readings into central's partitioned tables, one statement per kind for a whole group of batches: inserted
by their natural key (site, sensor, time to the microsecond), so a reading sent twice is stored once; each
light reading also raises its hour's maximum, as the site keeps it."""

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

# Which of the group's parts each new reading came from: the first that holds it (a reading in two
# parts, under two numbers, is stored once and counted for the first, as if the parts came one by one).
_COUNT_BY_PART = (
    " SELECT first, count(*) FROM (SELECT min(u.part) AS first FROM added"
    "  JOIN u ON u.site = added.site AND u.sensor = added.sensor AND u.at = added.ts"
    "  GROUP BY added.site, added.sensor, added.ts) AS f GROUP BY first"
)

Part = tuple[str, Sequence[Row]]  # a site's readings of one kind, from one batch


def microseconds(ts: float) -> int:
    """A site's time as central keeps it: whole microseconds since the Unix epoch."""
    return round(ts * 1e6)


def number_or_none(value: Any) -> float | None:
    """A JSON number as a float; anything else (null, text, a boolean) as None: SQL null."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _columns(parts: Sequence[Part]) -> tuple[list[int], list[str], list[dict[str, Any]]]:
    """The parts' records, each with its part's index and site."""
    index, sites, recs = [], [], []
    for i, (site, rows) in enumerate(parts):
        for r in rows:
            if r.record is not None:
                index.append(i)
                sites.append(site)
                recs.append(r.record)
    return index, sites, recs


def _counts(found: list[tuple[Any, ...]], parts: int) -> list[int]:
    counts = [0] * parts
    for part, added in found:
        counts[int(part)] = int(added)
    return counts


def light(conn: Connection, parts: Sequence[Part], received: datetime) -> list[int]:
    """Insert the light readings of every part and raise their hours' maxima in one statement (one
    round trip for a whole group: at a batch a second from each of 1,000 sites, a statement per batch
    is what central cannot afford); per part, the number of readings new here."""
    index, sites, recs = _columns(parts)
    if not recs:
        return [0] * len(parts)
    found = conn.execute(
        "WITH u AS (SELECT u.*, " + _AT_MICROSECOND + " AS at"
        "  FROM unnest(%s::int4[], %s::text[], %s::text[], %s::int8[], %s::float8[], %s::bool[],"
        "  %s::float8[])"
        "  AS u(part, site, sensor, ts, lux, saturated, cum)),"
        # Each hour's highest lux, as the site keeps it (a resent reading changes nothing: the greatest).
        " hours AS (INSERT INTO light_hour_maxima (site, sensor, hour_ts, max_lux)"
        "  SELECT u.site, u.sensor, (u.ts / 3600000000) * 3600.0, max(coalesce(u.lux, 'Infinity')) FROM u"
        "  GROUP BY 1, 2, 3 ON CONFLICT (site, sensor, hour_ts)"
        "  DO UPDATE SET max_lux = greatest(light_hour_maxima.max_lux, excluded.max_lux)),"
        " added AS (INSERT INTO light_readings (site, sensor, ts, lux, saturated, cum_lux_hours, received_at)"
        "  SELECT u.site, u.sensor, u.at, u.lux, u.saturated, u.cum, %s FROM u"
        "  ON CONFLICT DO NOTHING RETURNING site, sensor, ts)" + _COUNT_BY_PART,
        (
            index,
            sites,
            [str(r["sensor"]) for r in recs],
            [microseconds(float(r["ts"])) for r in recs],
            [number_or_none(r.get("lux")) for r in recs],
            [bool(r.get("saturated")) for r in recs],
            [number_or_none(r.get("cum_lux_hours")) for r in recs],
            received,
        ),
    ).fetchall()
    return _counts(found, len(parts))


def temperature(conn: Connection, parts: Sequence[Part], received: datetime) -> list[int]:
    """Insert the temperature readings of every part in one statement; per part, how many were new."""
    index, sites, recs = _columns(parts)
    if not recs:
        return [0] * len(parts)
    found = conn.execute(
        "WITH u AS (SELECT u.*, " + _AT_MICROSECOND + " AS at"
        "  FROM unnest(%s::int4[], %s::text[], %s::text[], %s::int8[], %s::float8[], %s::float8[],"
        "  %s::float8[])"
        "  AS u(part, site, sensor, ts, celsius, rh, cum)),"
        " added AS (INSERT INTO temperature_readings"
        "  (site, sensor, ts, celsius, relative_humidity_percent, cum_equivalent_hours, received_at)"
        "  SELECT u.site, u.sensor, u.at, u.celsius, u.rh, u.cum, %s FROM u"
        "  ON CONFLICT DO NOTHING RETURNING site, sensor, ts)" + _COUNT_BY_PART,
        (
            index,
            sites,
            [str(r["sensor"]) for r in recs],
            [microseconds(float(r["ts"])) for r in recs],
            [number_or_none(r.get("celsius")) for r in recs],
            [number_or_none(r.get("relative_humidity_percent")) for r in recs],
            [number_or_none(r.get("cum_equivalent_hours")) for r in recs],
            received,
        ),
    ).fetchall()
    return _counts(found, len(parts))
