"""Series for charts: a location's light and temperature over a window, a vial's potency over its life.

A day of 1 Hz readings is 86,400 points; a chart needs a few hundred. Light is kept as the minimum and
maximum of each bucket, so a door opened for ten seconds still shows as a spike; temperature as the
minimum, maximum and mean. The cumulative lux·h is counted from the window's start, from the ledger.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.model import evaluation
from monitor.model.inputs import ModelInputs
from monitor.model.profiles import Catalog
from monitor.store import history, model_inputs, readings, sites
from monitor.store.sites import LocationRecord
from monitor.store.vials import VialRecord

MAX_BUCKETS = 2_000
MAX_CURVE_POINTS = 500


@dataclass(frozen=True, slots=True)
class LightPoint:
    ts: float  # bucket start
    lux_min: float
    lux_max: float
    window_lux_hours: float  # dose since the window's start, at the bucket's last reading
    saturated: bool


@dataclass(frozen=True, slots=True)
class TemperaturePoint:
    ts: float
    celsius_min: float
    celsius_max: float
    celsius_mean: float


@dataclass(frozen=True, slots=True)
class LocationSeries:
    location: LocationRecord
    start: float
    end: float
    bucket_seconds: float
    light: tuple[LightPoint, ...]
    temperature: tuple[TemperaturePoint, ...]
    window_lux_hours: float  # the dose over the whole window


def bucket_seconds(start: float, end: float, buckets: int) -> float:
    """The width of each of ``buckets`` (clamped to 1 .. :data:`MAX_BUCKETS`) over ``[start, end]``."""
    if not end > start:
        raise ValueError("a series needs end after start")
    return (end - start) / max(1, min(buckets, MAX_BUCKETS))


def series_of(
    location: LocationRecord,
    start: float,
    end: float,
    width: float,
    light: Sequence[history.LightBucket] | None,
    light_ledger: tuple[float, float],
    temperature: Sequence[history.TemperatureBucket],
) -> LocationSeries:
    """The series from the buckets a store read (bucket ``b`` holds the readings with
    ``int((ts - start) / width) == b``; none: no light sensor) and the light ledger at the window's start
    and end: the assembly the site and central share."""
    base, last = light_ledger
    points = tuple(
        LightPoint(b.start, b.lux_min, b.lux_max, max(b.cum_lux_hours - base, 0.0), b.saturated)
        for b in light or ()
    )
    window_dose = 0.0 if light is None else max(last - base, 0.0)
    return LocationSeries(
        location,
        start,
        end,
        width,
        points,
        tuple(TemperaturePoint(b.start, b.celsius_min, b.celsius_max, b.celsius_mean) for b in temperature),
        window_dose,
    )


def location_series(
    conn: sqlite3.Connection, location: LocationRecord, start: float, end: float, buckets: int
) -> LocationSeries:
    width = bucket_seconds(start, end, buckets)
    light_sensor = sites.primary_sensor(conn, location.id, "light")
    temp_sensor = sites.primary_sensor(conn, location.id, "temperature")
    light = None
    ledger = (0.0, 0.0)
    if light_sensor is not None:
        light = history.light_buckets(conn, light_sensor, start, end, width)
        ledger = (
            readings.cumulative_at(conn, light_sensor, start),
            readings.cumulative_at(conn, light_sensor, end),
        )
    temperature = (
        [] if temp_sensor is None else history.temperature_buckets(conn, temp_sensor, start, end, width)
    )
    return series_of(location, start, end, width, light, ledger, temperature)


@dataclass(frozen=True, slots=True)
class PotencyPoint:
    ts: float
    percent: float
    effective_lux_hours: float
    low_percent: float | None = None  # the model's bounds at that time (see monitor.model.bounds)
    high_percent: float | None = None


def potency_curve(
    conn: sqlite3.Connection, catalog: Catalog, vial: VialRecord, points: int, *, with_events: bool = True
) -> tuple[PotencyPoint, ...]:
    """The vial's estimated potency at ``points`` evenly spaced times from registration to its latest data.

    With ``with_events`` the times of its events are added, so a step (a window opened, a move) lands
    where it happened. One load of what those times need serves every point, and one vectorised pass
    evaluates them all (:func:`monitor.model.evaluation.evaluate`).
    """
    points = max(2, min(points, MAX_CURVE_POINTS))
    inputs = model_inputs.load(conn, catalog, [vial], curve_points=points, curve_events=with_events)
    return curve_of(inputs, catalog, vial, with_events=with_events)


def curve_of(
    inputs: ModelInputs, catalog: Catalog, vial: VialRecord, *, with_events: bool
) -> tuple[PotencyPoint, ...]:
    """The curve of the one vial ``inputs`` were loaded for (with curve times): one vectorised pass. The
    site and central load the inputs from their own stores and both shape the curve here."""
    # The threshold only sets the time left, which a curve does not show.
    (found,) = evaluation.evaluate(inputs, catalog, 90.0)
    s = found.series
    if with_events and len(s.times) == 1:  # no time between registration and the data yet
        return (PotencyPoint(float(s.times[0]), vial.initial_potency_percent, 0.0),)
    return tuple(
        PotencyPoint(ts, best, effective, low, high)
        for ts, best, effective, low, high in zip(
            s.times.tolist(),
            s.percent_best.tolist(),
            s.effective_best.tolist(),
            s.percent_low.tolist(),
            s.percent_high.tolist(),
            strict=True,
        )
    )
