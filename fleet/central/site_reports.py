"""The site's dashboard glance and excursion report, computed at central from its copy of the site's
readings with the site's own alert limits (:mod:`fleet.central.site_apps` builds the site's settings with
them), as the site computes them: central reads the readings beyond a limit from PostgreSQL, and the
grouping into episodes and excursions is the site's own code (:func:`monitor.glance.light_runs`,
:func:`monitor.reporting.temperature_excursions_of`, :func:`monitor.reporting.light_excursions_of`).

Central keeps each reading as the site sent it, never a minute's aggregate, so no aggregated span stands
in for readings here: where the site has aggregated its readings past its retention, central's answer is
to the reading where the site's is to the minute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from monitor.alerts.rules import RuleThresholds
from monitor.episodes import Episode
from monitor.glance import light_runs
from monitor.model.quantities import Quantity
from monitor.reporting import Excursion, in_order, light_excursions_of, temperature_excursions_of
from monitor.store.sites import LocationRecord, SensorRecord

Connection = psycopg.Connection[tuple[Any, ...]]
PrimarySensor = Callable[[int, Quantity], SensorRecord | None]


def _readings(
    conn: Connection,
    site: str,
    table: str,
    value: str,
    sensor: str,
    start: float,
    end: float,
    where: str,
    bounds: dict[str, float],
) -> list[tuple[float, float]]:
    """``(ts, value)`` of ``sensor``'s readings in ``[start, end]`` that meet ``where``, oldest first."""
    rows = conn.execute(
        f"SELECT extract(epoch FROM ts)::float8, {value} FROM {table}"  # names from this module
        f" WHERE site = %(site)s AND sensor = %(sensor)s AND ts >= to_timestamp(%(start)s)"
        f" AND ts <= to_timestamp(%(end)s) AND {where} ORDER BY ts",
        {"site": site, "sensor": sensor, "start": start, "end": end, **bounds},
    ).fetchall()
    return [(float(t), float(v)) for t, v in rows]


def light_episodes(
    conn: Connection, site: str, sensor: SensorRecord | None, start: float, end: float, light_lux: float
) -> list[Episode]:
    """Runs of light at or above ``light_lux`` in ``[start, end]`` at ``sensor``, the location's light
    ledger, as :func:`monitor.glance.light_episodes`."""
    if sensor is None:
        return []
    lit = _readings(
        conn, site, "light_readings", "lux", sensor.key, start, end, "lux >= %(lux)s", {"lux": light_lux}
    )
    return light_runs(sensor, lit)


def excursions(
    conn: Connection,
    site: str,
    locations: Sequence[LocationRecord],
    primary_sensor: PrimarySensor,
    start: float,
    end: float,
    rules: RuleThresholds,
) -> list[Excursion]:
    """Temperature and light excursions in ``[start, end]`` at ``locations``, oldest first, as
    :func:`monitor.reporting.excursions`."""
    out: list[Excursion] = []
    low, high = float(rules.temperature_low_celsius), float(rules.temperature_high_celsius)
    for location in locations:
        temperature = primary_sensor(location.id, "temperature")
        if temperature is not None:
            outside = _readings(
                conn,
                site,
                "temperature_readings",
                "celsius",
                temperature.key,
                start,
                end,
                "(celsius < %(low)s OR celsius > %(high)s)",
                {"low": low, "high": high},
            )
            below = [(t, c) for t, c in outside if c < low]
            above = [(t, c) for t, c in outside if c > high]
            out += temperature_excursions_of(location, temperature, rules, below, above, {})
        light = primary_sensor(location.id, "light")
        out += light_excursions_of(
            location, light_episodes(conn, site, light, start, end, rules.light_lux), rules
        )
    return in_order(out)
