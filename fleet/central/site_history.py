"""What central reads of a site's history for its reports, as the site's own queries read it
(:mod:`monitor.store.history`): each local day's extremes, the time inside recorded gaps, a ledger at many
times, and whether central holds a sensor's readings from a time on. One statement each, for the
assembly the site and central share (:mod:`monitor.reporting`).

A period's bounds are asked as whole microseconds, as central keeps a reading's time
(:func:`fleet.central.reading_inserts.microseconds`): a reading at the very end of a period is in it
here as at the site.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from fleet.central import sensor_reads
from fleet.central.reading_inserts import microseconds
from fleet.central.site_config import as_site_sensor
from monitor.store.history import SECONDS_PER_DAY, DayExtremes
from monitor.store.sites import SensorRecord

Connection = psycopg.Connection[tuple[Any, ...]]

_VALUES = {
    "light": ("light_readings", "coalesce(lux, 'Infinity')"),  # null: not finite at the site
    "temperature": ("temperature_readings", "celsius"),
}
# ``[start, end]`` as whole microseconds (``start_us``, ``end_us``: :func:`period`).
PERIOD = (
    "ts >= timestamptz 'epoch' + %(start_us)s * interval '1 microsecond'"
    " AND ts <= timestamptz 'epoch' + %(end_us)s * interval '1 microsecond'"
)

# The site's gaps as they stand: each gap's newest record, a removed one gone.
GAPS = (
    "SELECT DISTINCT ON (record->>'id') kind, record FROM site_records"
    " WHERE site = %(site)s AND kind IN ('gap', 'gap-removed') ORDER BY record->>'id', seq DESC"
)


def period(start: float, end: float) -> dict[str, int]:
    """The parameters of :data:`PERIOD`: the bounds as central keeps a reading's time."""
    return {"start_us": microseconds(start), "end_us": microseconds(end)}


def daily_extremes(
    conn: Connection, site: str, sensor: SensorRecord, start: float, end: float, utc_offset_seconds: float
) -> list[DayExtremes]:
    """Minimum, maximum and count of the readings of each local day in ``[start, end]`` (°C or lux, by
    the sensor), as :func:`monitor.store.history.daily_extremes` (central keeps every reading: no minute
    aggregates stand for them)."""
    table, value = _VALUES[sensor.quantity]
    rows = conn.execute(
        f"SELECT trunc((extract(epoch FROM ts) + %(offset)s) / {SECONDS_PER_DAY})::int8 AS d,"  # names above
        f" min({value}), max({value}), count(*) FROM {table}"
        f" WHERE site = %(site)s AND sensor = %(sensor)s AND {PERIOD} GROUP BY d ORDER BY d",
        {
            "offset": utc_offset_seconds,
            "site": site,
            "sensor": sensor.key,
            **period(start, end),
        },
    ).fetchall()
    return [DayExtremes(int(d), float(lo), float(hi), int(n)) for d, lo, hi, n in rows if lo is not None]


def gap_seconds(
    conn: Connection, site: str, keys: Sequence[str], start: float, end: float
) -> dict[str, float]:
    """Per sensor key, the time in ``[start, end]`` inside one of the site's recorded gaps, as
    :func:`monitor.store.history.gap_seconds`."""
    rows = conn.execute(
        "SELECT g.record->>'sensor', sum(least((g.record->>'end_ts')::float8, %(end)s)"
        " - greatest((g.record->>'start_ts')::float8, %(start)s))"
        f" FROM ({GAPS}) AS g WHERE g.kind = 'gap' AND g.record->>'sensor' = ANY(%(keys)s)"
        " AND (g.record->>'end_ts')::float8 > %(start)s AND (g.record->>'start_ts')::float8 < %(end)s"
        " GROUP BY 1",
        {"site": site, "keys": list(keys), "start": start, "end": end},
    ).fetchall()
    found = {str(k): float(s) for k, s in rows}
    return {k: found.get(k, 0.0) for k in keys}


def ledger_at(conn: Connection, site: str, asked: dict[SensorRecord, list[float]]) -> dict[str, list[float]]:
    """Each sensor's ledger at its asked times (light and temperature sensors alike), interpolated as at
    the site (:func:`fleet.central.sensor_reads.ledgers`): one statement per quantity asked."""
    out: dict[str, list[float]] = {}
    for quantity in ("light", "temperature"):
        mine = {as_site_sensor(s): t for s, t in asked.items() if s.quantity == quantity}
        if mine:
            found = sensor_reads.ledgers(conn, site, quantity, mine)
            out |= {k: [float(v) for v in x.values] for k, x in found.items()}
    return out


def held_from(conn: Connection, site: str, sensors: Sequence[SensorRecord], since: float) -> str | None:
    """Why central cannot read ``sensors``' history from ``since`` as the site would, if it cannot: it
    holds a sensor's readings only from a later time, where the site's ledger had accumulated already
    (readings central never received, or dropped by its retention). Two statements."""
    for quantity in ("light", "temperature"):
        keys = [s.key for s in sensors if s.quantity == quantity]
        if not keys:
            continue
        for key, end in sensor_reads.ends(conn, site, quantity, keys).items():
            if end.first_ts is not None and end.first_cumulative and since < end.first_ts:
                return (
                    f"central holds {key!r}'s readings only from {end.first_ts:.6f}, where the site's"
                    f" ledger stood at {end.first_cumulative:g} already, and the period starts before"
                )
    return None
