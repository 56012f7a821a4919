"""What the dashboard shows at a glance, from the store: per location and per vial.

Per location: the summary (lux, °C, MKT, cumulative lux·h), whether the light is on now, and the day's light
episodes. In a fridge whose interior light comes on with the door, a light episode is a door opening: the
light threshold of the rules (``light_lux``) separates open from closed. Per vial: its potency, its status
and the time left to the warning and critical thresholds at the location's present conditions.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

import numpy as np

from monitor import kinetics
from monitor.episodes import Episode, episodes, join_seconds_for
from monitor.exposure import VialPotency, vial_potency
from monitor.locations import LocationSummary, summarise
from monitor.outlook import VialStatus, hours_to_threshold, loss_rate_per_hour, vial_status
from monitor.profiles import Catalog
from monitor.rules import RuleThresholds
from monitor.store import history, readings, sites
from monitor.store.sites import LocationRecord
from monitor.store.vials import VialRecord


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
    return episodes(
        lit,
        join_seconds=join_seconds_for(sensor.interval_seconds, sensor.max_gap_seconds),
        interval_seconds=sensor.interval_seconds,
        direction="above",
        spans=history.aggregated_outside(conn, sensor, start, end, light_lux, "at-or-above"),
    )


def location_glance(
    conn: sqlite3.Connection, location: LocationRecord, *, now: float, day_start: float, light_lux: float
) -> LocationGlance:
    summary = summarise(conn, location)
    return LocationGlance(
        summary=summary,
        light_on=None if summary.lux is None else summary.lux >= light_lux,
        light_threshold_lux=light_lux,
        day_start=day_start,
        openings=tuple(light_episodes(conn, location, day_start, now, light_lux)),
    )


@dataclass(frozen=True, slots=True)
class VialGlance:
    potency: VialPotency
    status: VialStatus  # from the best estimate, the one value the model gives here
    loss_rate_per_hour: float | None  # at present conditions; None for a vial no longer in stock
    hours_to_warning: float | None
    hours_to_critical: float | None


def _now_value(conn: sqlite3.Connection, sensor: sites.SensorRecord | None) -> float | None:
    last = None if sensor is None else readings.latest(conn, sensor)
    return None if last is None else last[1]


def vial_glance(
    conn: sqlite3.Connection, catalog: Catalog, vial: VialRecord, thresholds: RuleThresholds
) -> VialGlance:
    p = vial_potency(conn, catalog, vial)
    status = vial_status(p.percent, thresholds.potency_warning_percent, thresholds.potency_critical_percent)
    if vial.status != "active" or p.location_id is None or p.packaging is None:
        return VialGlance(p, status, None, None, None)
    drug = catalog.drug(vial.drug)
    lux = _now_value(conn, sites.primary_sensor(conn, p.location_id, "light"))
    celsius = _now_value(conn, sites.primary_sensor(conn, p.location_id, "temperature"))
    factor = 0.0
    if celsius is not None:
        kelvin = np.array([celsius + kinetics.CELSIUS_TO_KELVIN], dtype=np.float64)
        factor = float(
            kinetics.arrhenius_factor(kelvin, kinetics.ea_over_r(drug), drug.t_ref_kelvin.value)[0]
        )
    rate = loss_rate_per_hour(
        k_light_per_lux_hour=kinetics.photolysis_rate_per_lux_hour(drug, catalog.form(vial.drug, vial.form)),
        tau=catalog.tau(p.packaging),
        lux=0.0 if lux is None else lux,
        k_ref_per_hour=drug.k_ref_per_hour.value,
        arrhenius_factor=factor,
    )
    return VialGlance(
        potency=p,
        status=status,
        loss_rate_per_hour=rate if math.isfinite(rate) else None,
        hours_to_warning=hours_to_threshold(p.percent, thresholds.potency_warning_percent, rate),
        hours_to_critical=hours_to_threshold(p.percent, thresholds.potency_critical_percent, rate),
    )
