"""The site's figures for Prometheus: each location's light, temperature and dose, each vial's potency band
and time left, each sensor's state, and the thresholds the alerting rules compare them with.

    vialguard_location_lux{location}                          newest reading of its primary light sensor
    vialguard_location_celsius{location}                      newest reading of its primary thermometer
    vialguard_location_lux_hours_total{location}              cumulative light dose (the location's ledger)
    vialguard_location_vials{location}                        active vials there now
    vialguard_vial_potency_percent{vial,location,bound}       best, low and high bound of the potency
    vialguard_vial_hours_to_threshold{vial,location}          hours until the critical threshold (+Inf: none)
    vialguard_sensor_up{sensor,location,quantity}             1 while the sensor's status is ok
    vialguard_sensor_last_reading_timestamp_seconds{...}      when its newest reading was taken
    vialguard_sensor_max_gap_seconds{...}                     the silence past which it counts as stale
    vialguard_potency_threshold_percent{severity}             rules.potency_warning/critical_percent
    vialguard_light_threshold_lux                             rules.light_lux
    vialguard_temperature_threshold_celsius{bound}            rules.temperature_low/high_celsius

The thresholds come from the site's configuration, so deploy/prometheus/vialguard.rules.yml compares with
them instead of repeating numbers that could drift from the config.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from api.deps import AppState
from monitor.assessment import VialAssessment, assess_all, thresholds_of
from monitor.config import RulesConfig
from monitor.model.profiles import Catalog
from monitor.model.verdict import VERDICTS, Verdict
from monitor.site_view import SiteView
from monitor.store import readings, sites
from monitor.store import vials as vial_store
from monitor.store.database import snapshot
from monitor.store.vials import VialRecord

BOUNDS = ("best", "low", "high")


@dataclass(frozen=True, slots=True)
class VialFigures:
    """What the metrics show of one vial: its potency band now, where it is, the hours it has left."""

    percent: dict[str, float]  # by bound: best, low, high
    location_id: int | None
    hours_left: float  # the verdict's time left; +Inf: not at present conditions
    verdict: Verdict


def vial_figures(
    conn: sqlite3.Connection, catalog: Catalog, vials: list[VialRecord], rules: RulesConfig, now: float
) -> list[VialFigures]:
    """The metrics' one call into the model: each vial's potency band and its verdict, as every surface,
    from one load and one evaluation."""
    return [_figures(a) for a in assess_all(conn, catalog, vials, thresholds_of(rules.thresholds()), now=now)]


def _figures(a: VialAssessment) -> VialFigures:
    band = a.potency.percent_range
    left = a.verdict.hours_left
    return VialFigures(
        {"best": band.best, "low": band.low, "high": band.high},
        a.potency.location_id,
        math.inf if left is None else left,
        a.verdict.verdict,
    )


class SiteCollector:
    """Reads the site's figures from the store at each scrape, in one snapshot."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        state = self.state
        with state.checkout() as conn, snapshot(conn):
            yield from _site(conn, state.catalog, state.settings.rules, state.clock.wall())
        yield from _thresholds(state.settings.rules)


def _site(conn: sqlite3.Connection, catalog: Catalog, rules: RulesConfig, now: float) -> Iterator[Metric]:
    site = SiteView(conn)
    locations = {loc.id: loc.key for loc in sites.list_locations(conn)}

    potency = GaugeMetricFamily(
        "vialguard_vial_potency_percent",
        "Potency of each active vial in percent of label claim: best estimate and its low and high bounds.",
        labels=["vial", "location", "bound"],
    )
    hours = GaugeMetricFamily(
        "vialguard_vial_hours_to_threshold",
        "The vial's time left until do-not-use at current conditions, as its verdict gives it: the earlier"
        " of the low bound reaching the critical threshold and the label's deadline (+Inf: never).",
        labels=["vial", "location"],
    )
    verdicts = GaugeMetricFamily(
        "vialguard_vial_verdict",
        "1 for the vial's verdict (use, watch, do-not-use), 0 for the others: the one every surface shows.",
        labels=["vial", "location", "verdict"],
    )
    vials_at: Counter[int] = Counter()
    active = vial_store.list_all(conn, active_only=True)
    for vial, figures in zip(active, vial_figures(conn, catalog, active, rules, now), strict=True):
        where = "" if figures.location_id is None else locations.get(figures.location_id, "")
        if figures.location_id is not None:
            vials_at[figures.location_id] += 1
        for bound in BOUNDS:
            potency.add_metric([vial.key, where, bound], figures.percent[bound])
        hours.add_metric([vial.key, where], figures.hours_left)
        for word in VERDICTS:
            verdicts.add_metric([vial.key, where, word], float(word == figures.verdict))
    yield potency
    yield hours
    yield verdicts

    lux = GaugeMetricFamily(
        "vialguard_location_lux",
        "Newest illuminance at the location (its primary light sensor).",
        labels=["location"],
    )
    celsius = GaugeMetricFamily(
        "vialguard_location_celsius",
        "Newest temperature at the location (its primary thermometer).",
        labels=["location"],
    )
    dose = CounterMetricFamily(
        "vialguard_location_lux_hours",
        "Cumulative light dose at the location in lux hours (its light sensor's ledger).",
        labels=["location"],
    )
    vials = GaugeMetricFamily(
        "vialguard_location_vials", "Active vials at the location now.", labels=["location"]
    )
    for location_id, key in locations.items():
        vials.add_metric([key], vials_at[location_id])
        light = site.sensor(location_id, "light")
        if light is not None:
            newest = readings.latest(conn, light)
            if newest is not None:
                lux.add_metric([key], newest[1])
            tail = readings.tail(conn, light)
            if tail is not None:
                dose.add_metric([key], tail.cumulative)
        temp = site.sensor(location_id, "temperature")
        newest = None if temp is None else readings.latest(conn, temp)
        if newest is not None:
            celsius.add_metric([key], newest[1])
    yield from (lux, celsius, dose, vials)

    labels = ["sensor", "location", "quantity"]
    up = GaugeMetricFamily("vialguard_sensor_up", "1 while the sensor's status is ok, else 0.", labels=labels)
    last = GaugeMetricFamily(
        "vialguard_sensor_last_reading_timestamp_seconds",
        "Unix time of the sensor's newest stored reading.",
        labels=labels,
    )
    max_gap = GaugeMetricFamily(
        "vialguard_sensor_max_gap_seconds",
        "The silence past which the sensor's readings count as missing (its max_gap_seconds).",
        labels=labels,
    )
    for sensor in sites.list_sensors(conn):
        names = [sensor.key, locations.get(sensor.location_id, ""), sensor.quantity]
        up.add_metric(names, 1 if sensor.status == "ok" else 0)
        max_gap.add_metric(names, sensor.max_gap_seconds)
        tail = readings.tail(conn, sensor)
        if tail is not None:
            last.add_metric(names, tail.ts)
    yield from (up, last, max_gap)


def _thresholds(rules: RulesConfig) -> Iterator[Metric]:
    potency = GaugeMetricFamily(
        "vialguard_potency_threshold_percent",
        "The configured potency alert thresholds (rules.potency_warning_percent, potency_critical_percent).",
        labels=["severity"],
    )
    potency.add_metric(["warning"], rules.potency_warning_percent)
    potency.add_metric(["critical"], rules.potency_critical_percent)
    yield potency
    light = GaugeMetricFamily(
        "vialguard_light_threshold_lux",
        "Illuminance above which light at the vials counts (rules.light_lux).",
    )
    light.add_metric([], rules.light_lux)
    yield light
    temperature = GaugeMetricFamily(
        "vialguard_temperature_threshold_celsius",
        "The configured storage range (rules.temperature_low_celsius, temperature_high_celsius).",
        labels=["bound"],
    )
    temperature.add_metric(["low"], rules.temperature_low_celsius)
    temperature.add_metric(["high"], rules.temperature_high_celsius)
    yield temperature
