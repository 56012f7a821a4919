"""What the reports hold, assembled from the store: excursions, a location's period, a vial's history.

Pure assembly, no rendering: the API turns these into CSV and PDF. A temperature excursion is every run of
readings outside the rules' range, however short (an inspector wants each one, with its duration); a light
excursion is a run of light at or above ``light_lux`` that lasted at least the light rule's hold time (the
shorter ones are the ordinary door openings, listed as such in the location report).

The cuts and the assembly (:func:`day_spans`, :func:`days_of`, :func:`stays_of`, :func:`dose_between`,
the ``*_of`` functions) are pure: central reads its own copy of a site and builds the same reports with
them (:mod:`fleet.central.site_reports`).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from monitor import locations
from monitor.alerts.rules import RuleThresholds
from monitor.assessment import VialAssessment, assess, thresholds_of
from monitor.episodes import Direction, Episode, Span, episodes, join_seconds_for
from monitor.glance import light_episodes
from monitor.model.profiles import Catalog
from monitor.series import PotencyPoint, potency_curve
from monitor.store import alerts as alert_store
from monitor.store import handovers, history, readings, sites
from monitor.store import vials as vial_store
from monitor.store.handovers import HandoverRecord
from monitor.store.sites import LocationRecord, SensorRecord
from monitor.store.vials import VialEvent, VialRecord

ExcursionKind = Literal["temperature-high", "temperature-low", "light"]
MAX_PERIOD_SECONDS = 366 * 86_400.0
VIAL_CURVE_POINTS = 60  # the vial report's potency curve


@dataclass(frozen=True, slots=True)
class Excursion:
    location: LocationRecord
    kind: ExcursionKind
    episode: Episode
    bound: float
    unit: Literal["°C", "lx"]


def _temperature_excursions(
    conn: sqlite3.Connection, location: LocationRecord, start: float, end: float, rules: RuleThresholds
) -> list[Excursion]:
    sensor = sites.primary_sensor(conn, location.id, "temperature")
    if sensor is None:
        return []
    below, above = history.temperature_outside(
        conn, sensor, start, end, rules.temperature_low_celsius, rules.temperature_high_celsius
    )
    high, low = rules.temperature_high_celsius, rules.temperature_low_celsius
    spans: dict[Direction, list[Span]] = {
        "above": history.aggregated_outside(conn, sensor, start, end, high, "above"),
        "below": history.aggregated_outside(conn, sensor, start, end, low, "below"),
    }
    return temperature_excursions_of(location, sensor, rules, below, above, spans)


def temperature_excursions_of(
    location: LocationRecord,
    sensor: SensorRecord,
    rules: RuleThresholds,
    below: Sequence[tuple[float, float]],
    above: Sequence[tuple[float, float]],
    spans: Mapping[Direction, Sequence[Span]],
) -> list[Excursion]:
    """The temperature excursions from the readings below and above the rules' range (``(ts, °C)``,
    oldest first) and the aggregated minutes beyond each bound: the grouping the site and central share."""
    join = join_seconds_for(sensor.interval_seconds, sensor.max_gap_seconds)
    out: list[Excursion] = []
    sides: tuple[tuple[ExcursionKind, Sequence[tuple[float, float]], float, Direction], ...] = (
        ("temperature-high", above, rules.temperature_high_celsius, "above"),
        ("temperature-low", below, rules.temperature_low_celsius, "below"),
    )
    for kind, outside, bound, direction in sides:
        out += [
            Excursion(location, kind, e, bound, "°C")
            for e in episodes(
                outside,
                join_seconds=join,
                interval_seconds=sensor.interval_seconds,
                direction=direction,
                spans=spans.get(direction, ()),
            )
        ]
    return out


def light_excursions_of(
    location: LocationRecord, openings: Sequence[Episode], rules: RuleThresholds
) -> list[Excursion]:
    """The light episodes that lasted the light rule's hold time; the shorter are door openings."""
    return [
        Excursion(location, "light", e, rules.light_lux, "lx")
        for e in openings
        if e.seconds >= rules.light_hold_seconds
    ]


def in_order(found: Sequence[Excursion]) -> list[Excursion]:
    """Oldest first; at one time by location and kind."""
    return sorted(found, key=lambda x: (x.episode.start, x.location.key, x.kind))


def excursions(
    conn: sqlite3.Connection,
    start: float,
    end: float,
    rules: RuleThresholds,
    location: LocationRecord | None = None,
) -> list[Excursion]:
    """Temperature and light excursions in ``[start, end]``, oldest first."""
    out: list[Excursion] = []
    for loc in [location] if location is not None else sites.list_locations(conn):
        out += _temperature_excursions(conn, loc, start, end, rules)
        out += light_excursions_of(loc, light_episodes(conn, loc, start, end, rules.light_lux), rules)
    return in_order(out)


@dataclass(frozen=True, slots=True)
class DayRow:
    day: int  # days since 1970-01-01 in the report's time zone
    celsius_min: float | None
    celsius_max: float | None
    lux_max: float | None
    lux_hours: float
    door_openings: int
    temperature_readings: int


@dataclass(frozen=True, slots=True)
class AlertHistory:
    alert: alert_store.AlertRecord
    events: tuple[alert_store.AlertEvent, ...]


@dataclass(frozen=True, slots=True)
class LocationReport:
    location: LocationRecord
    start: float
    end: float
    utc_offset_seconds: float
    rules: RuleThresholds
    days: tuple[DayRow, ...]
    excursions: tuple[Excursion, ...]
    openings: tuple[Episode, ...]
    lux_hours: float
    mean_kinetic_temperature_celsius: float | None
    alerts: tuple[AlertHistory, ...]
    gap_seconds: dict[str, float]  # per sensor key: time without data in the period


def dose_between(ledger_at_start: float, ledger_at_end: float) -> float:
    """The dose a light ledger took between two times, from its values there (never negative)."""
    return max(ledger_at_end - ledger_at_start, 0.0)


def _dose(conn: sqlite3.Connection, sensor: SensorRecord | None, start: float, end: float) -> float:
    if sensor is None:
        return 0.0
    return dose_between(
        readings.cumulative_at(conn, sensor, start), readings.cumulative_at(conn, sensor, end)
    )


@dataclass(frozen=True, slots=True)
class DaySpan:
    """One local day of a report's period and the part of the period it holds."""

    day: int  # days since 1970-01-01 in the report's time zone
    start: float
    end: float


def day_spans(start: float, end: float, utc_offset_seconds: float) -> tuple[DaySpan, ...]:
    """Each local day ``[start, end]`` touches, at the UTC offset, clipped to the period."""
    first_day = int((start + utc_offset_seconds) // history.SECONDS_PER_DAY)
    last_day = int((end + utc_offset_seconds) // history.SECONDS_PER_DAY)
    return tuple(
        DaySpan(
            day,
            max(day * history.SECONDS_PER_DAY - utc_offset_seconds, start),
            min((day + 1) * history.SECONDS_PER_DAY - utc_offset_seconds, end),
        )
        for day in range(first_day, last_day + 1)
    )


def days_of(
    spans: Sequence[DaySpan],
    temperature: Mapping[int, history.DayExtremes],
    light: Mapping[int, history.DayExtremes],
    lux_hours: Sequence[float],
    openings: Sequence[Episode],
) -> tuple[DayRow, ...]:
    """The daily sheet from each day's extremes (by day), its light dose (one per span) and the light
    episodes: the assembly the site and central share."""
    rows: list[DayRow] = []
    for d, dose in zip(spans, lux_hours, strict=True):
        t, lx = temperature.get(d.day), light.get(d.day)
        rows.append(
            DayRow(
                day=d.day,
                celsius_min=None if t is None else t.minimum,
                celsius_max=None if t is None else t.maximum,
                lux_max=None if lx is None else lx.maximum,
                lux_hours=dose,
                door_openings=sum(1 for e in openings if d.start <= e.start < d.end),
                temperature_readings=0 if t is None else t.readings,
            )
        )
    return tuple(rows)


def check_period(start: float, end: float) -> None:
    if not end > start:
        raise ValueError("the report period must end after it starts")
    if end - start > MAX_PERIOD_SECONDS:
        raise ValueError("the report period must be at most 366 days")


def _alerts(conn: sqlite3.Connection, ids: list[int]) -> tuple[AlertHistory, ...]:
    return tuple(AlertHistory(alert_store.get(conn, i), tuple(alert_store.events(conn, i))) for i in ids)


def location_report(
    conn: sqlite3.Connection,
    location: LocationRecord,
    start: float,
    end: float,
    utc_offset_seconds: float,
    rules: RuleThresholds,
) -> LocationReport:
    check_period(start, end)
    light = sites.primary_sensor(conn, location.id, "light")
    temp = sites.primary_sensor(conn, location.id, "temperature")
    openings = light_episodes(conn, location, start, end, rules.light_lux)
    temps = (
        {}
        if temp is None
        else {d.day: d for d in history.daily_extremes(conn, temp, start, end, utc_offset_seconds)}
    )
    luxes = (
        {}
        if light is None
        else {d.day: d for d in history.daily_extremes(conn, light, start, end, utc_offset_seconds)}
    )
    spans = day_spans(start, end, utc_offset_seconds)
    days = days_of(spans, temps, luxes, [_dose(conn, light, d.start, d.end) for d in spans], openings)
    mkt = None if temp is None else locations.mean_kinetic_temperature(conn, temp, end, end - start)
    gaps = {s.key: history.gap_seconds(conn, s, start, end) for s in sites.list_sensors(conn, location.id)}
    return LocationReport(
        location=location,
        start=start,
        end=end,
        utc_offset_seconds=utc_offset_seconds,
        rules=rules,
        days=days,
        excursions=tuple(excursions(conn, start, end, rules, location)),
        openings=tuple(openings),
        lux_hours=_dose(conn, light, start, end),
        mean_kinetic_temperature_celsius=mkt,
        alerts=_alerts(conn, history.alert_ids_between(conn, start, end, location_id=location.id)),
        gap_seconds=gaps,
    )


@dataclass(frozen=True, slots=True)
class ExposureRow:
    """One stretch of a vial's life between events: where it was, how packed, and the dose it took."""

    start: float
    end: float
    location: LocationRecord
    packaging: str
    tau: float
    location_lux_hours: float

    @property
    def effective_lux_hours(self) -> float:
        return self.tau * self.location_lux_hours


@dataclass(frozen=True, slots=True)
class VialReport:
    vial: VialRecord
    assessment: VialAssessment
    events: tuple[tuple[VialEvent, LocationRecord | None], ...]
    exposure: tuple[ExposureRow, ...]
    curve: tuple[PotencyPoint, ...]
    alerts: tuple[AlertHistory, ...]
    rules: RuleThresholds
    hand_overs: tuple[HandoverRecord, ...] = ()  # to and from other sites, with the documents


@dataclass(frozen=True, slots=True)
class Stay:
    """A stretch of a vial's life at one location in one packaging, before its dose is read."""

    start: float
    end: float
    location_id: int
    packaging: str


def stays_of(events: Sequence[VialEvent], as_of: float) -> list[Stay]:
    """The vial's stretches between its events up to ``as_of`` (none while at another site, none after
    it was administered or discarded): the cut the site and central share."""
    out: list[Stay] = []
    location: int | None = None
    packaging: str | None = None
    since: float | None = None
    for event in [*events, None]:
        ts = as_of if event is None else min(event.ts, as_of)
        if since is not None and location is not None and packaging is not None and ts > since:
            out.append(Stay(since, ts, location, packaging))
        if event is None or event.ts >= as_of or event.kind in ("administered", "discarded"):
            break
        if event.kind == "handed-over":  # at another site until received back: nothing here
            location = packaging = since = None
            continue
        location = event.location_id if event.location_id is not None else location
        packaging = event.packaging if event.packaging is not None else packaging
        since = event.ts
    return out


def _exposure(
    conn: sqlite3.Connection, catalog: Catalog, events: list[VialEvent], as_of: float
) -> list[ExposureRow]:
    rows: list[ExposureRow] = []
    for s in stays_of(events, as_of):
        loc = sites.location_by_id(conn, s.location_id)
        dose = _dose(conn, sites.primary_sensor(conn, s.location_id, "light"), s.start, s.end)
        rows.append(ExposureRow(s.start, s.end, loc, s.packaging, catalog.tau(s.packaging), dose))
    return rows


def vial_report(
    conn: sqlite3.Connection,
    catalog: Catalog,
    vial: VialRecord,
    rules: RuleThresholds,
    *,
    now: float,
    points: int = VIAL_CURVE_POINTS,
) -> VialReport:
    a = assess(conn, catalog, vial, thresholds_of(rules), now=now)
    events = vial_store.events(conn, vial.id)
    named = tuple(
        (e, None if e.location_id is None else sites.location_by_id(conn, e.location_id)) for e in events
    )
    return VialReport(
        vial=vial,
        assessment=a,
        events=named,
        exposure=tuple(_exposure(conn, catalog, events, a.potency.as_of)),
        curve=potency_curve(conn, catalog, vial, points),
        alerts=_alerts(conn, history.alert_ids_between(conn, vial.registered_ts, math.inf, vial_id=vial.id)),
        rules=rules,
        hand_overs=tuple(handovers.of_vial(conn, vial.id)),
    )
