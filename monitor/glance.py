"""What the dashboard shows at a glance of a location, from the store.

Per location: the summary (lux, °C, MKT, cumulative lux·h), whether the light is on now, and the day's light
episodes. In a fridge whose interior light comes on with the door, a light episode is a door opening: the
light threshold of the rules (``light_lux``) separates open from closed. A vial's potency and verdict are
:mod:`monitor.assessment`'s.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.episodes import Episode, Span, episodes, join_seconds_for
from monitor.locations import LocationSummary, summarise
from monitor.store import history, sites
from monitor.store.sites import LocationRecord, SensorRecord


@dataclass(frozen=True, slots=True)
class LocationGlance:
    summary: LocationSummary
    light_on: bool | None  # None: no light reading yet
    light_threshold_lux: float
    day_start: float
    openings: tuple[Episode, ...]  # light episodes since ``day_start``, the last possibly still going on

    @property
    def longest_opening_seconds(self) -> float | None:
        return max((e.seconds for e in self.openings), default=None)


def light_episodes(
    conn: sqlite3.Connection, location: LocationRecord, start: float, end: float, light_lux: float
) -> list[Episode]:
    """Runs of light at or above ``light_lux`` at the location in ``[start, end]``."""
    sensor = sites.primary_sensor(conn, location.id, "light")
    if sensor is None:
        return []
    lit = history.light_at_or_above(conn, sensor, start, end, light_lux)
    return light_runs(
        sensor, lit, history.aggregated_outside(conn, sensor, start, end, light_lux, "at-or-above")
    )


def light_runs(
    sensor: SensorRecord, lit: Sequence[tuple[float, float]], spans: Sequence[Span] = ()
) -> list[Episode]:
    """The light episodes of ``sensor``'s readings at or above the threshold (``(ts, lux)``, oldest first)
    and its aggregated minutes there: the grouping the site and central share."""
    return episodes(
        lit,
        join_seconds=join_seconds_for(sensor.interval_seconds, sensor.max_gap_seconds),
        interval_seconds=sensor.interval_seconds,
        direction="above",
        spans=spans,
    )


def glance_of(
    summary: LocationSummary, openings: Sequence[Episode], *, day_start: float, light_lux: float
) -> LocationGlance:
    """The glance from the location's summary and its light episodes since ``day_start``."""
    return LocationGlance(
        summary=summary,
        light_on=None if summary.lux is None else summary.lux >= light_lux,
        light_threshold_lux=light_lux,
        day_start=day_start,
        openings=tuple(openings),
    )


def location_glance(
    conn: sqlite3.Connection, location: LocationRecord, *, now: float, day_start: float, light_lux: float
) -> LocationGlance:
    return glance_of(
        summarise(conn, location),
        light_episodes(conn, location, day_start, now, light_lux),
        day_start=day_start,
        light_lux=light_lux,
    )
