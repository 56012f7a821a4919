"""One load of everything the potency model needs, for a vial, a set of vials or a curve. Reads only.

:func:`load` reads the vials' events, then for every location they have been in its sensors, lamp,
worst-case lux and newest readings, works out each vial's evaluation times (its data's time, or a curve's
points) and which times each location's ledgers will be asked at (:func:`monitor.model.input_plan.plan`,
shared with central's loader), and reads just those: the ledgers at those times
(:mod:`monitor.store.ledger_samples`), the light sensor's gaps, saturated readings and hourly maxima over
the span they cover. What it reads
grows with the number of vials, events and times asked, and with the gaps and saturated readings in the
span; not with the number of readings. The model (:func:`monitor.model.evaluation.evaluate`) then
computes from the result alone.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence

import numpy as np

from monitor.model import dose_ranges, input_plan
from monitor.model.inputs import (
    EventFacts,
    LatestKappa,
    LatestLight,
    LatestLit,
    LightRecord,
    LocationInputs,
    ModelInputs,
    SpectralRecord,
    TemperatureRecord,
    UvRecord,
)
from monitor.model.kinetics import FloatArray
from monitor.model.profiles import Catalog
from monitor.model.spectral import MIN_LUX_FOR_DAYLIGHT_SHARE
from monitor.store import handovers, health, location_light, readings, sites, spectral
from monitor.store.ledger_samples import reading_ledger_at, spectral_ledgers_at
from monitor.store.sites import SensorRecord
from monitor.store.vials import VialRecord


def _table(rows: Sequence[Sequence[float]], columns: int) -> FloatArray:
    """Fetched rows as a float array of ``columns`` columns (none: zero rows, not a flat empty array)."""
    return np.asarray(rows, dtype=np.float64).reshape(-1, columns)


def events_of(conn: sqlite3.Connection, vial_ids: Sequence[int]) -> dict[int, tuple[EventFacts, ...]]:
    """Each vial's events in time order, in one statement."""
    rows = conn.execute(
        "SELECT vial_id, ts, kind, location_id, packaging FROM vial_events"
        " WHERE vial_id IN (SELECT value FROM json_each(?)) ORDER BY vial_id, ts, id",
        (json.dumps(list(vial_ids)),),
    ).fetchall()
    out: dict[int, list[EventFacts]] = {v: [] for v in vial_ids}
    for vial_id, ts, kind, location_id, packaging in rows:
        out[int(vial_id)].append(EventFacts(float(ts), str(kind), location_id, packaging))
    return {v: tuple(e) for v, e in out.items()}


class _Location:
    """A location's sensors and newest readings: what the evaluation times depend on."""

    def __init__(self, conn: sqlite3.Connection, location_id: int) -> None:
        self.id = location_id
        self.light_setup = location_light.of(conn, location_id)
        self.light = sites.primary_sensor(conn, location_id, "light")
        self.temperature = sites.primary_sensor(conn, location_id, "temperature")
        self.spectral = spectral.spectral_sensor(conn, location_id)
        self.uv = (
            None if self.spectral is not None else spectral.spectral_sensor(conn, location_id, near_uv=True)
        )
        self.latest_light = None if self.light is None else readings.latest(conn, self.light)
        self.latest_temperature = (
            None if self.temperature is None else readings.latest(conn, self.temperature)
        )


def _first_and_last(conn: sqlite3.Connection, sensor: SensorRecord) -> tuple[float | None, float | None]:
    # Two single-ended queries: SQLite answers each from the primary key, but MIN and MAX together scan.
    first = (
        conn.execute(
            "SELECT first_ts FROM minute_aggregates WHERE sensor_id = ? ORDER BY minute_ts LIMIT 1",
            (sensor.id,),
        ).fetchone()
        or conn.execute(  # the oldest readings may be aggregated past retention
            "SELECT ts FROM light_readings WHERE sensor_id = ? ORDER BY ts LIMIT 1", (sensor.id,)
        ).fetchone()
    )
    last = conn.execute(
        "SELECT ts FROM light_readings WHERE sensor_id = ? ORDER BY ts DESC LIMIT 1", (sensor.id,)
    ).fetchone()
    return (None if first is None else float(first[0])), (None if last is None else float(last[0]))


_SATURATED = (
    "SELECT ts, lux FROM light_readings{hint} WHERE sensor_id = ? AND saturated = 1 AND ts BETWEEN ? AND ?"
    " ORDER BY ts"
)


def _saturated_readings(conn: sqlite3.Connection, sensor_id: int, start: float, end: float) -> FloatArray:
    """``(ts, lux)`` of the saturated readings in [start, end].

    The partial index holds only saturated rows; without statistics the planner prefers the primary key
    and scans the whole stretch, so the index is named. A database whose index is missing (rebuilt by
    hand) still answers, by the scan.
    """
    args = (sensor_id, start, end)
    try:
        rows = conn.execute(_SATURATED.format(hint=" INDEXED BY light_readings_saturated"), args).fetchall()
    except sqlite3.OperationalError:
        rows = conn.execute(_SATURATED.format(hint=""), args).fetchall()
    return _table(rows, 2)


_SATURATED_MINUTES = (
    "SELECT first_ts, last_ts, saturated, saturated_sum FROM minute_aggregates{hint} WHERE sensor_id = ?"
    " AND saturated > 0 AND minute_ts >= ? AND minute_ts <= ? AND first_ts >= ? AND last_ts <= ?"
    " ORDER BY minute_ts"
)


def _saturated_minutes(conn: sqlite3.Connection, sensor_id: int, start: float, end: float) -> FloatArray:
    """Minutes aggregated past retention within [start, end] that held saturated readings, by the partial
    index of migration 16 (a database without it still answers, by the scan)."""
    args = (sensor_id, math.floor(start / 60.0) * 60.0, end, start, end)
    try:
        rows = conn.execute(
            _SATURATED_MINUTES.format(hint=" INDEXED BY minute_aggregates_saturated"), args
        ).fetchall()
    except sqlite3.OperationalError:
        rows = conn.execute(_SATURATED_MINUTES.format(hint=""), args).fetchall()
    return _table(rows, 4)


_TOP_HOURS = 128  # the sensor's highest hours read by the index: the bound of almost every long stretch
_WINDOW_HIGHEST = """
    WITH w(a, b) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?2))
    SELECT h.hour_ts, h.max_lux FROM w CROSS JOIN light_hour_maxima h ON h.sensor_id = ?1 AND h.hour_ts = (
        SELECT hour_ts FROM (SELECT hour_ts, MAX(max_lux) FROM light_hour_maxima
            WHERE sensor_id = ?1 AND hour_ts >= w.a AND hour_ts <= w.b))
"""
_TOP = (
    "SELECT hour_ts, max_lux FROM light_hour_maxima{hint} WHERE sensor_id = ? ORDER BY max_lux DESC LIMIT ?"
)


def _hour_maxima(
    conn: sqlite3.Connection, sensor: SensorRecord, cuts: list[tuple[float, float]]
) -> FloatArray:
    """``(hour_ts, max_lux)`` of hours that hold the highest of every window the bound on unseen light
    reads (:func:`monitor.model.dose_ranges.highest_lux`): the sensor's highest hours, and for a window
    holding none of them, its own highest. Exact for those windows, without reading months of hours."""
    if not cuts:
        return _table([], 2)
    start, end = np.array(cuts).T
    since, until = dose_ranges.highest_windows(start, end)
    try:  # named: without statistics the planner sorts every hour instead
        rows = conn.execute(_TOP.format(hint=" INDEXED BY light_hour_maxima_by_lux"), (sensor.id, _TOP_HOURS))
    except sqlite3.OperationalError:  # a database whose index is missing still answers, by the sort
        rows = conn.execute(_TOP.format(hint=""), (sensor.id, _TOP_HOURS))
    top = _table(rows.fetchall(), 2)
    hours = np.sort(top[:, 0])
    lo, hi = np.searchsorted(hours, since, side="left"), np.searchsorted(hours, until, side="right")
    missed = sorted(
        {
            (a, b)
            for a, b, hit in zip(since.tolist(), until.tolist(), (hi > lo).tolist(), strict=True)
            if not hit
        }
    )
    if missed:
        top = np.concatenate(
            (top, _table(conn.execute(_WINDOW_HIGHEST, (sensor.id, json.dumps(missed))).fetchall(), 2))
        )
    _, first = np.unique(top[:, 0], return_index=True)  # by hour, each once
    found: FloatArray = top[first]
    return found


def _light_record(
    conn: sqlite3.Connection,
    loc: _Location,
    sensor: SensorRecord,
    times: list[float],
    cuts: list[tuple[float, float]],
    lag: float,
) -> LightRecord:
    start, end = (min(times), max(times)) if times else (math.inf, -math.inf)
    gaps = _table(
        conn.execute(
            "SELECT start_ts, end_ts FROM gaps WHERE sensor_id = ? AND end_ts > ? AND start_ts < ?"
            " ORDER BY start_ts",
            (sensor.id, start, end),
        ).fetchall(),
        2,
    )
    hours = _table([], 2)
    if loc.light_setup.worst_case_lux is None:
        hours = _hour_maxima(conn, sensor, cuts)
    saturated = _saturated_readings(conn, sensor.id, start, end) if times else _table([], 2)
    minutes = _saturated_minutes(conn, sensor.id, start, end) if times else _table([], 4)
    first, last = _first_and_last(conn, sensor)
    latest = loc.latest_light
    return LightRecord(
        key=sensor.key,
        calibration_uncertainty_lux=sensor.calibration_uncertainty or 0.0,
        interval_seconds=sensor.interval_seconds,
        max_gap_seconds=sensor.max_gap_seconds,
        ledger=reading_ledger_at(conn, sensor, times),
        first_ts=first,
        last_ts=last,
        tolerance_seconds=sensor.max_gap_seconds + lag,
        gap_starts=gaps[:, 0],
        gap_ends=gaps[:, 1],
        hour_ts=hours[:, 0],
        hour_max_lux=hours[:, 1],
        saturated_ts=saturated[:, 0],
        saturated_lux=saturated[:, 1],
        minute_first_ts=minutes[:, 0],
        minute_last_ts=minutes[:, 1],
        minute_saturated=minutes[:, 2],
        minute_saturated_lux=minutes[:, 3],
        latest=None if latest is None else LatestLight(latest[0], latest[1], latest[2]),
    )


def _temperature_record(
    conn: sqlite3.Connection, loc: _Location, sensor: SensorRecord, times: list[float], series: bool
) -> TemperatureRecord:
    series_ts = series_celsius = None
    if series and times:
        raw = _table(readings.series(conn, sensor, min(times), max(times), limit=10_000_000), 2)
        series_ts, series_celsius = raw[:, 0], raw[:, 1]
    return TemperatureRecord(
        key=sensor.key,
        calibration_uncertainty_celsius=sensor.calibration_uncertainty or 0.0,
        max_gap_seconds=sensor.max_gap_seconds,
        ledger=reading_ledger_at(conn, sensor, times),
        series_ts=series_ts,
        series_celsius=series_celsius,
        latest_celsius=None if loc.latest_temperature is None else loc.latest_temperature[1],
    )


def _location_inputs(
    conn: sqlite3.Connection, loc: _Location, cuts: list[tuple[float, float]], series: bool, lag: float
) -> LocationInputs:
    times = sorted({t for cut in cuts for t in cut})
    spectral_record = uv_record = None
    if loc.spectral is not None:
        ledgers = spectral_ledgers_at(conn, loc.spectral, times)
        newest = spectral.latest_kappa(conn, loc.spectral)
        spectral_record = SpectralRecord(
            loc.spectral.key,
            ledgers.spectral_lux,
            ledgers.kappa_lux,
            None if newest is None else LatestKappa(*newest),
            spectral.chip_of(conn, loc.spectral),
            ledgers.spectrum,
        )
    elif loc.uv is not None:
        near_uv = spectral_ledgers_at(conn, loc.uv, times).near_uv
        lit = spectral.latest_lit_near_uv(conn, loc.uv, MIN_LUX_FOR_DAYLIGHT_SHARE)
        uv_record = UvRecord(
            loc.uv.key,
            reading_ledger_at(conn, loc.uv, times),
            near_uv,
            None if lit is None else LatestLit(*lit),
        )
    return LocationInputs(
        id=loc.id,
        lamp=loc.light_setup.lamp,
        worst_case_lux=loc.light_setup.worst_case_lux,
        light=None if loc.light is None else _light_record(conn, loc, loc.light, times, cuts, lag),
        temperature=None
        if loc.temperature is None
        else _temperature_record(conn, loc, loc.temperature, times, series),
        spectral=spectral_record,
        uv=uv_record,
    )


def load(
    conn: sqlite3.Connection,
    catalog: Catalog,
    vials: Sequence[VialRecord],
    *,
    now: float | None = None,
    as_of: float | None = None,
    curve_points: int | None = None,
    curve_events: bool = True,
    times: FloatArray | None = None,
) -> ModelInputs:
    """What the model needs to evaluate ``vials``: each as of ``as_of`` (default: its latest data, with
    time a silent sensor should have covered up to ``now`` widening the low bound), with
    ``curve_points`` at that many times from its registration to its latest data (and its events' times,
    with ``curve_events``), or at each of ``times`` (sorted)."""
    events = events_of(conn, [v.id for v in vials])
    locations = {loc_id: _Location(conn, loc_id) for loc_id in input_plan.visited(events)}
    plan = input_plan.plan(
        catalog,
        vials,
        events,
        {i: (None if loc.latest_light is None else loc.latest_light[0]) for i, loc in locations.items()},
        {i: loc.light is not None for i, loc in locations.items()},
        now=now,
        as_of=as_of,
        curve_points=curve_points,
        curve_events=curve_events,
        times=times,
        carried=handovers.carried(conn, [v.id for v in vials]),
    )
    lag = health.report_lag_seconds(conn)
    return ModelInputs(
        vials=plan.vials,
        locations={
            i: _location_inputs(conn, loc, plan.cuts[i], i in plan.series, lag)
            for i, loc in locations.items()
        },
    )


def load_location(conn: sqlite3.Connection, location_id: int, times: Sequence[float]) -> LocationInputs:
    """What the model needs of one location to evaluate the stretch from the first of ``times`` to each."""
    lag = health.report_lag_seconds(conn)
    ordered = sorted(set(times))
    cuts = sorted({(ordered[0], t) for t in ordered}) if ordered else []
    return _location_inputs(conn, _Location(conn, location_id), cuts, False, lag)
