"""The site's dashboard glance, excursion report and PDF reports' contents, computed at central from its
copy of the site's readings with the site's own alert limits (:mod:`fleet.central.site_apps` builds the
site's settings with them), as the site computes them: central reads the readings beyond a limit, each
day's extremes, the ledgers at the times asked, the gaps and the alerts from PostgreSQL, one statement
each (:mod:`fleet.central.site_history`), and the grouping into episodes, excursions, days and stays is
the site's own code (:func:`monitor.glance.light_runs`, :func:`monitor.reporting.temperature_excursions_of`,
:func:`monitor.reporting.light_excursions_of`, :func:`monitor.reporting.days_of`,
:func:`monitor.reporting.stays_of`). A vial's potency, verdict and curve are the model's, from central's
loader (:mod:`fleet.central.site_views`).

Where central's answer is not the site's:

- Central keeps each reading as the site sent it, never a minute's aggregate, so no aggregated span stands
  in for readings here: where the site has aggregated its readings past its retention, central's answer
  is to the reading where the site's is to the minute (an episode's bounds, a ledger inside the span).
- An alert's changes are those central holds: from the site's uplink on (the back-fill sends each alert
  as it then stood), and its snapshot stays at the site (:mod:`fleet.central.site_alerts`); central keeps
  the resolved alerts the site has since purged. The PDFs show neither the changes nor the snapshot.
- A period that starts before the first reading central holds of a sensor whose ledger the site had
  already accumulated (readings never received, or dropped by central's retention) is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from fleet.central import site_alerts, site_history, site_views
from fleet.central.site_refusals import central_lacks
from monitor.alerts.rules import RuleThresholds
from monitor.assessment import thresholds_of
from monitor.episodes import Episode
from monitor.errors import NotFound
from monitor.glance import light_runs
from monitor.model.profiles import Catalog
from monitor.model.quantities import Quantity
from monitor.reporting import (
    VIAL_CURVE_POINTS,
    Excursion,
    ExposureRow,
    LocationReport,
    VialReport,
    check_period,
    day_spans,
    days_of,
    dose_between,
    in_order,
    light_excursions_of,
    stays_of,
    temperature_excursions_of,
)
from monitor.store.handovers import HandoverRecord
from monitor.store.history import DayExtremes
from monitor.store.keys import KeyNames
from monitor.store.sites import LocationRecord, SensorRecord
from monitor.store.vials import VialEvent, VialRecord

Connection = psycopg.Connection[tuple[Any, ...]]
PrimarySensor = Callable[[int, Quantity], SensorRecord | None]


@dataclass(frozen=True, slots=True)
class VialFacts:
    """What the store interface holds already of a vial and its site, for the vial's report."""

    events: tuple[VialEvent, ...]  # in the site's order
    hand_overs: tuple[HandoverRecord, ...]
    locations: Mapping[int, LocationRecord]  # by the site's id
    primary_sensor: PrimarySensor
    ids: KeyNames

    def location_by_id(self, location_id: int) -> LocationRecord:
        found = self.locations.get(location_id)
        if found is None:
            raise NotFound(f"no location with id {location_id}")
        return found


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
        f" WHERE site = %(site)s AND sensor = %(sensor)s AND {site_history.PERIOD} AND {where} ORDER BY ts",
        {"site": site, "sensor": sensor, **site_history.period(start, end), **bounds},
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


def location_report(
    conn: Connection,
    site: str,
    location: LocationRecord,
    sensors: Sequence[SensorRecord],
    primary_sensor: PrimarySensor,
    start: float,
    end: float,
    utc_offset_seconds: float,
    rules: RuleThresholds,
    ids: KeyNames,
) -> LocationReport:
    """The location's storage report over ``[start, end]`` (``sensors``: the location's, in the site's
    order), days counted at the UTC offset, as :func:`monitor.reporting.location_report`."""
    check_period(start, end)
    light = primary_sensor(location.id, "light")
    temperature = primary_sensor(location.id, "temperature")
    refusal = site_history.held_from(conn, site, [s for s in (light, temperature) if s is not None], start)
    if refusal is not None:
        central_lacks(site, "location report", refusal)
    openings = light_episodes(conn, site, light, start, end, rules.light_lux)

    def extremes(sensor: SensorRecord | None) -> dict[int, DayExtremes]:
        if sensor is None:
            return {}
        return {
            d.day: d for d in site_history.daily_extremes(conn, site, sensor, start, end, utc_offset_seconds)
        }

    spans = day_spans(start, end, utc_offset_seconds)
    # The light ledger at the period's ends and each day's: one statement.
    at = [start, end, *(t for d in spans for t in (d.start, d.end))]
    ledger = [0.0] * len(at) if light is None else site_history.ledger_at(conn, site, {light: at})[light.key]
    doses = [dose_between(ledger[k], ledger[k + 1]) for k in range(0, len(ledger), 2)]
    return LocationReport(
        location=location,
        start=start,
        end=end,
        utc_offset_seconds=utc_offset_seconds,
        rules=rules,
        days=days_of(spans, extremes(temperature), extremes(light), doses[1:], openings),
        excursions=tuple(excursions(conn, site, [location], primary_sensor, start, end, rules)),
        openings=tuple(openings),
        lux_hours=doses[0],
        mean_kinetic_temperature_celsius=None
        if temperature is None
        else site_views.mean_kinetic_temperature(conn, site, temperature, end, end - start),
        alerts=site_alerts.histories(conn, site, start, end, ids, location=location.key),
        gap_seconds=site_history.gap_seconds(conn, site, [s.key for s in sensors], start, end),
    )


def vial_report(
    conn: Connection,
    site: str,
    catalog: Catalog,
    vial: VialRecord,
    rules: RuleThresholds,
    now: float,
    found: VialFacts,
) -> VialReport:
    """The vial's exposure between its events, its potency curve, its verdict at ``now`` and its alerts,
    as :func:`monitor.reporting.vial_report`: the verdict and curve from central's loader and the model,
    each stay's dose from one statement over the light ledgers."""
    (assessed,) = site_views.assess_all(
        conn, site, catalog, [vial], thresholds_of(rules), now, what="vial report"
    )
    stays = stays_of(found.events, assessed.potency.as_of)
    lights = {s.location_id: found.primary_sensor(s.location_id, "light") for s in stays}
    asked: dict[SensorRecord, list[float]] = {}
    for s in stays:
        sensor = lights[s.location_id]
        if sensor is not None:
            asked.setdefault(sensor, []).extend((s.start, s.end))
    ledgers = site_history.ledger_at(conn, site, asked) if asked else {}
    read = {key: iter(values) for key, values in ledgers.items()}
    exposure = []
    for s in stays:
        sensor = lights[s.location_id]
        dose = 0.0 if sensor is None else dose_between(next(read[sensor.key]), next(read[sensor.key]))
        location = found.location_by_id(s.location_id)
        exposure.append(ExposureRow(s.start, s.end, location, s.packaging, catalog.tau(s.packaging), dose))
    return VialReport(
        vial=vial,
        assessment=assessed,
        events=tuple(
            (e, None if e.location_id is None else found.location_by_id(e.location_id)) for e in found.events
        ),
        exposure=tuple(exposure),
        curve=site_views.potency_curve(conn, site, catalog, vial, VIAL_CURVE_POINTS, with_events=True),
        alerts=site_alerts.histories(conn, site, vial.registered_ts, math.inf, found.ids, vial=vial.key),
        rules=rules,
        hand_overs=tuple(found.hand_overs),
    )
