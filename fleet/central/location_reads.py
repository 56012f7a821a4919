"""What the model reads of the sites' locations at central: each location's primary sensors with their
first and newest readings (:func:`visits`, what a plan needs), then the ledgers at the times the plan asks,
the light sensors' gaps, saturated readings and hourly maxima, the raw temperatures a drug needs
(:func:`read_locations`), one statement per kind of input for every site at once
(:mod:`fleet.central.sensor_reads`), assembled into the model's :class:`monitor.model.inputs.LocationInputs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg

from fleet.central import sensor_reads
from fleet.central.site_config import SiteLocation, SiteSensor
from monitor.model import input_plan
from monitor.model.inputs import LatestLight, LedgerAt, LightRecord, LocationInputs, TemperatureRecord
from monitor.model.kinetics import FloatArray
from monitor.model.profiles import UNKNOWN_LAMP

Connection = psycopg.Connection[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Visited:
    """One site's locations a load visits, under the plan's ids, with their primary sensors and each
    sensor's first and newest reading: what the plan and the later reads need of them."""

    site: str
    located: Mapping[int, SiteLocation]  # by the plan's location id
    light: Mapping[int, SiteSensor | None]
    temperature: Mapping[int, SiteSensor | None]
    ends: Mapping[str, sensor_reads.Ends]  # by sensor key (keys are the site's, unique within it)

    def newest_light(self) -> dict[int, float | None]:
        """Per location, its light sensor's newest reading's time (None: none, or no sensor)."""
        out: dict[int, float | None] = {}
        for i, sensor in self.light.items():
            found = None if sensor is None else self.ends[sensor.key].newest
            out[i] = None if found is None else found[0]
        return out

    def has_light(self) -> dict[int, bool]:
        return {i: s is not None for i, s in self.light.items()}


def visit(conn: Connection, site: str, located: Mapping[int, SiteLocation]) -> Visited:
    """:func:`visits` of one site."""
    (only,) = visits(conn, [(site, located)])
    return only


def visits(conn: Connection, wanted: Sequence[tuple[str, Mapping[int, SiteLocation]]]) -> list[Visited]:
    """Each site's locations a load visits (by the plan's ids) with their primary sensors' first and
    newest readings, two statements for any number of sites."""
    light = [{i: loc.primary("light") for i, loc in located.items()} for _, located in wanted]
    temperature = [{i: loc.primary("temperature") for i, loc in located.items()} for _, located in wanted]
    ends = sensor_reads.ends_of(
        conn,
        "light",
        [(site, s.key) for (site, _), mine in zip(wanted, light, strict=True) for s in mine.values() if s],
    )
    ends |= sensor_reads.ends_of(
        conn,
        "temperature",
        [
            (site, s.key)
            for (site, _), mine in zip(wanted, temperature, strict=True)
            for s in mine.values()
            if s
        ],
    )
    by_site: dict[str, dict[str, sensor_reads.Ends]] = {site: {} for site, _ in wanted}
    for (site, key), found in ends.items():
        by_site[site][key] = found
    return [
        Visited(site, located, lux, heat, by_site[site])
        for (site, located), lux, heat in zip(wanted, light, temperature, strict=True)
    ]


def merged(plans: Sequence[input_plan.Plan]) -> input_plan.Plan:
    """Plans over locations numbered apart, as one: what :func:`read_locations` asks of them all."""
    return input_plan.Plan(
        tuple(v for p in plans for v in p.vials),
        {i: cuts for p in plans for i, cuts in p.cuts.items()},
        frozenset(i for p in plans for i in p.series),
    )


def read_locations(
    conn: Connection,
    visited: Sequence[Visited],
    plan: input_plan.Plan,
    report_lag_seconds: Mapping[str, float],
) -> dict[int, LocationInputs]:
    """What the model reads of every site's ``visited`` locations (their ids unique across them) at the
    times ``plan`` asks, by the plan's ids; one statement per kind of input for every site at once.
    ``report_lag_seconds``: each site's bridge commit window."""
    light = {i: (v.site, s) for v in visited for i, s in v.light.items() if s is not None}
    temperature = {i: (v.site, s) for v in visited for i, s in v.temperature.items() if s is not None}
    located = {i: loc for v in visited for i, loc in v.located.items()}
    light_times = {ref: plan.times(i) for i, ref in light.items()}
    temperature_times = {ref: plan.times(i) for i, ref in temperature.items()}
    light_ledgers = sensor_reads.ledgers_of(conn, "light", light_times)
    temperature_ledgers = sensor_reads.ledgers_of(conn, "temperature", temperature_times)
    gaps = sensor_reads.gaps(conn, light_times)
    saturated = sensor_reads.saturated(conn, light_times)
    hours = sensor_reads.hour_maxima(
        conn, {ref: plan.cuts[i] for i, ref in light.items() if located[i].worst_case_lux is None}
    )
    series = sensor_reads.series(
        conn, {ref: plan.times(i) for i, ref in temperature.items() if i in plan.series}
    )
    out: dict[int, LocationInputs] = {}
    for v in visited:
        lag = report_lag_seconds[v.site]
        for i, loc in v.located.items():
            lux, heat = v.light[i], v.temperature[i]
            out[i] = LocationInputs(
                id=i,
                lamp=loc.lamp or UNKNOWN_LAMP,
                worst_case_lux=loc.worst_case_lux,
                light=None
                if lux is None
                else _light_record(
                    lux,
                    v.ends[lux.key],
                    light_ledgers[(v.site, lux.key)],
                    _found(gaps, v.site, lux),
                    _found(saturated, v.site, lux),
                    _found(hours, v.site, lux),
                    lag,
                ),
                temperature=None
                if heat is None
                else _temperature_record(
                    heat,
                    v.ends[heat.key],
                    temperature_ledgers[(v.site, heat.key)],
                    series.get((v.site, heat.key)),
                ),
                spectral=None,
                uv=None,
            )
    return out


def _found(found: Mapping[sensor_reads.Ref, FloatArray], site: str, sensor: SiteSensor) -> FloatArray:
    """The sensor's rows of ``found``; none if it was not asked."""
    return found.get((site, sensor.key), sensor_reads.table([], 2))


def _light_record(
    sensor: SiteSensor,
    ends: sensor_reads.Ends,
    ledger_at: LedgerAt,
    found_gaps: FloatArray,
    found_saturated: FloatArray,
    found_hours: FloatArray,
    lag: float,
) -> LightRecord:
    nothing = np.empty(0)
    newest = ends.newest
    return LightRecord(
        key=sensor.key,
        calibration_uncertainty_lux=sensor.calibration_uncertainty or 0.0,
        interval_seconds=sensor.interval_seconds,
        max_gap_seconds=sensor.max_gap_seconds,
        ledger=ledger_at,
        first_ts=ends.first_ts,
        last_ts=None if newest is None else newest[0],
        tolerance_seconds=sensor.max_gap_seconds + lag,
        gap_starts=found_gaps[:, 0],
        gap_ends=found_gaps[:, 1],
        hour_ts=found_hours[:, 0],
        hour_max_lux=found_hours[:, 1],
        saturated_ts=found_saturated[:, 0],
        saturated_lux=found_saturated[:, 1],
        # Central keeps the raw readings: no minute stands for them (at the site, only past retention).
        minute_first_ts=nothing,
        minute_last_ts=nothing,
        minute_saturated=nothing,
        minute_saturated_lux=nothing,
        latest=None if newest is None else LatestLight(*newest),
    )


def _temperature_record(
    sensor: SiteSensor, ends: sensor_reads.Ends, ledger_at: LedgerAt, raw: FloatArray | None
) -> TemperatureRecord:
    return TemperatureRecord(
        key=sensor.key,
        calibration_uncertainty_celsius=sensor.calibration_uncertainty or 0.0,
        max_gap_seconds=sensor.max_gap_seconds,
        ledger=ledger_at,
        series_ts=None if raw is None else raw[:, 0],
        series_celsius=None if raw is None else raw[:, 1],
        latest_celsius=None if ends.newest is None else ends.newest[1],
    )
