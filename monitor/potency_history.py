"""A vial's potency at many past times from one load: the curve costs one pass over its stretches.

The potency at time τ is :func:`monitor.model.bounds.potency_range` over the vial's stretches up to τ
(:func:`monitor.exposure.spans`). Every stretch that ended by τ is the same at every later time, so each is
evaluated once; only the stretch τ falls in is cut at τ. For that one, what the store would be asked at
each τ is loaded once for all of them (the sensor's recorded gaps, its saturated readings, its hourly
maxima, its first and last reading) and cut by array arithmetic, so a curve of 500 points over a year of
history reads the history once, not 500 times. The ledger values at each τ are the ledger's exact
interpolation (:func:`monitor.store.readings.cumulative_at`).

Where a stretch needs what only a per-time evaluation has (a κ_s measured by a spectral or UV sensor, a
drug whose activation energy is not the ledger's, a light activation energy), that stretch falls back to
:func:`monitor.exposure.segment_ranges` at each τ: the same numbers, more slowly. A test holds every point
equal to :func:`monitor.exposure.vial_potency` at that time.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor import data_bounds
from monitor.exposure import Span, interval_of, reference_hours, segment_ranges, spans
from monitor.model import bounds, kinetics
from monitor.model.bounds import Interval, SegmentRange
from monitor.model.kinetics import FloatArray
from monitor.model.profiles import Catalog, DrugModel
from monitor.site_view import SiteView
from monitor.store import health, readings
from monitor.store import vials as vial_store
from monitor.store.sites import SensorRecord
from monitor.store.vials import VialRecord

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class PotencyAt:
    """The vial's potency and effective dose at one time, each best, low and high."""

    ts: float
    percent: Interval
    effective_lux_hours: Interval


@dataclass(frozen=True, slots=True)
class _Seen:
    """What a light sensor recorded over ``[start, until]``, loaded once: enough to say for any end
    ``e`` in it how much of ``[start, e]`` it did not see, the highest lux around, and its saturated
    readings."""

    start: float
    first: float | None  # its first reading ever (aggregated minutes included)
    last: float | None  # its last raw reading
    tolerance_seconds: float  # a silence shorter than this after the last reading is none
    max_gap_seconds: float
    gap_starts: FloatArray
    gap_ends: FloatArray
    hour_ts: FloatArray  # the hourly maxima over the windows the bounds look at
    hour_max: FloatArray
    saturated_ts: FloatArray  # raw saturated readings in [start, until], and their lux summed so far
    saturated_cum_lux: FloatArray
    minutes_last_ts: FloatArray  # aggregated minutes with saturated readings, by last reading
    minutes_cum_count: FloatArray
    minutes_cum_lux: FloatArray


def _table(rows: Sequence[Sequence[float]], columns: int) -> FloatArray:
    """Fetched rows as a float array of ``columns`` columns (none: zero rows, not a flat empty array)."""
    return np.asarray(rows, dtype=np.float64).reshape(-1, columns)


def _load_seen(conn: sqlite3.Connection, sensor: SensorRecord, start: float, until: float) -> _Seen:
    select = "SELECT start_ts, end_ts FROM gaps WHERE sensor_id = ? AND end_ts > ? AND start_ts < ?"
    gaps = _table(conn.execute(select + " ORDER BY start_ts", (sensor.id, start, until)).fetchall(), 2)
    first_row = (
        conn.execute(
            "SELECT first_ts FROM minute_aggregates WHERE sensor_id = ? ORDER BY minute_ts LIMIT 1",
            (sensor.id,),
        ).fetchone()
        or conn.execute(
            "SELECT ts FROM light_readings WHERE sensor_id = ? ORDER BY ts LIMIT 1", (sensor.id,)
        ).fetchone()
    )
    last_row = conn.execute(
        "SELECT ts FROM light_readings WHERE sensor_id = ? ORDER BY ts DESC LIMIT 1", (sensor.id,)
    ).fetchone()
    window = data_bounds.HIGHEST_SEEN_WINDOW_SECONDS
    select = "SELECT hour_ts, max_lux FROM light_hour_maxima WHERE sensor_id = ? AND hour_ts >= ?"
    args = (sensor.id, readings.hour_of(start - window), until + window)
    hours = _table(conn.execute(select + " AND hour_ts <= ? ORDER BY hour_ts", args).fetchall(), 2)
    saturated = _table(data_bounds.saturated_readings(conn, sensor.id, start, until), 2)
    select = (
        "SELECT last_ts, saturated, saturated_sum FROM minute_aggregates WHERE sensor_id = ?"
        " AND saturated > 0 AND first_ts >= ? AND last_ts <= ? ORDER BY last_ts"
    )
    minutes = _table(conn.execute(select, (sensor.id, start, until)).fetchall(), 3)
    return _Seen(
        start=start,
        first=None if first_row is None else float(first_row[0]),
        last=None if last_row is None else float(last_row[0]),
        tolerance_seconds=sensor.max_gap_seconds + health.report_lag_seconds(conn),
        max_gap_seconds=sensor.max_gap_seconds,
        gap_starts=gaps[:, 0],
        gap_ends=gaps[:, 1],
        hour_ts=hours[:, 0],
        hour_max=hours[:, 1],
        saturated_ts=saturated[:, 0],
        saturated_cum_lux=np.cumsum(saturated[:, 1]),
        minutes_last_ts=minutes[:, 0],
        minutes_cum_count=np.cumsum(minutes[:, 1]),
        minutes_cum_lux=np.cumsum(minutes[:, 2]),
    )


def _unseen_seconds(seen: _Seen, ends: FloatArray) -> FloatArray:
    """As :func:`monitor.data_bounds._unseen_seconds` over ``[seen.start, e]`` for each ``e`` of ``ends``."""
    s = seen.start
    length = ends - s
    if seen.first is None:
        return length
    overlap = np.minimum(seen.gap_ends[:, None], ends[None, :]) - np.maximum(seen.gap_starts[:, None], s)
    gap = np.sum(np.where(seen.gap_starts[:, None] < ends[None, :], overlap, 0.0), axis=0)
    head = np.where(seen.first - s > seen.max_gap_seconds, np.minimum(ends, seen.first) - s, 0.0)
    last = seen.first if seen.last is None else seen.last
    tail = np.where(ends - last > seen.tolerance_seconds, ends - max(s, last), 0.0)
    total: FloatArray = np.minimum(gap + np.maximum(head, 0.0) + np.maximum(tail, 0.0), length)
    return total


def _highest(seen: _Seen, end: float) -> float | None:
    """As :func:`monitor.data_bounds._highest_lux` over ``[seen.start, end]``, from the loaded hours."""
    window = data_bounds.HIGHEST_SEEN_WINDOW_SECONDS
    since, until = min(seen.start, end - window), end + window
    lo = int(np.searchsorted(seen.hour_ts, readings.hour_of(since), side="left"))
    hi = int(np.searchsorted(seen.hour_ts, until, side="right"))
    return float(seen.hour_max[lo:hi].max()) if hi > lo else None


def _saturated(seen: _Seen, end: float) -> tuple[int, float]:
    """Count and lux sum of saturated readings in ``[seen.start, end]``, raw and aggregated."""
    i = int(np.searchsorted(seen.saturated_ts, end, side="right"))
    j = int(np.searchsorted(seen.minutes_last_ts, end, side="right"))
    count = i + (int(seen.minutes_cum_count[j - 1]) if j else 0)
    lux = (float(seen.saturated_cum_lux[i - 1]) if i else 0.0) + (
        float(seen.minutes_cum_lux[j - 1]) if j else 0.0
    )
    return count, lux


def _doses(
    site: SiteView, location_id: int, start: float, ends: FloatArray
) -> list[tuple[Interval, bool]] | None:
    """:func:`monitor.data_bounds.dose_range` over ``[start, e]`` for each ``e``; ``None`` where only the
    per-time path can say (a sensor whose readings were all aggregated)."""
    light = site.sensor(location_id, "light")
    worst = site.light(location_id).worst_case_lux
    hours = (ends - start) / SECONDS_PER_HOUR
    if light is None:
        if worst is None:
            return [(Interval.exact(0.0), True)] * len(ends)
        return [(Interval(0.0, 0.0, worst * h), False) for h in hours.tolist()]
    seen = _load_seen(site.conn, light, start, float(ends.max()))
    if seen.first is not None and seen.last is None:
        return None
    base = readings.cumulative_at(site.conn, light, start)
    unseen_hours = _unseen_seconds(seen, ends) / SECONDS_PER_HOUR
    u = light.calibration_uncertainty or 0.0
    out: list[tuple[Interval, bool]] = []
    for end, h, unseen in zip(ends.tolist(), hours.tolist(), unseen_hours.tolist(), strict=True):
        best = readings.cumulative_at(site.conn, light, end) - base
        covered = max(h - unseen, 0.0)
        low, high, unbounded = max(best - u * covered, 0.0), best + u * covered, False
        if unseen > 0:
            bound = worst if worst is not None else _highest(seen, end)
            if bound is None:
                unbounded = True
            else:
                high += bound * unseen
        count, lux_sum = _saturated(seen, end)
        if count:
            if worst is None:
                unbounded = True
            else:
                high += max(worst * count - lux_sum, 0.0) * light.interval_seconds / SECONDS_PER_HOUR
        out.append((Interval(best, min(low, best), high), unbounded))
    return out


def _per_time_only(site: SiteView, drug: DrugModel, location_id: int) -> bool:
    """Whether a stretch here needs the per-time path: a measured κ_s, or heat the ledger does not hold."""
    standard = math.isclose(
        kinetics.ea_over_r(drug), kinetics.MKT_DELTA_H_OVER_R_KELVIN, rel_tol=1e-9
    ) and math.isclose(drug.t_ref_kelvin.value, kinetics.LEDGER_T_REF_KELVIN)
    return (
        drug.light_activation_energy_kj_per_mol is not None
        or not standard
        or site.spectral_sensor(location_id) is not None
        or site.spectral_sensor(location_id, near_uv=True) is not None
    )


def _cut(
    site: SiteView, catalog: Catalog, drug: DrugModel, span: Span, ends: FloatArray
) -> list[SegmentRange]:
    """The stretch ``span`` cut at each of ``ends`` (all inside it), as ``segment_ranges`` gives it."""
    doses = (
        None
        if _per_time_only(site, drug, span.location_id)
        else _doses(site, span.location_id, span.start, ends)
    )
    if doses is None:
        return [
            segment_ranges(site, catalog, drug, [Span(span.start, e, span.location_id, span.packaging)], [])[
                0
            ]
            for e in ends.tolist()
        ]
    tau = catalog.packaging_state(span.packaging).tau
    kappa = catalog.lamp(site.light(span.location_id).lamp).kappa
    temp = site.sensor(span.location_id, "temperature")
    ea_over_r, t_ref = kinetics.ea_over_r(drug), drug.t_ref_kelvin.value
    out: list[SegmentRange] = []
    for end, (dose, unbounded) in zip(ends.tolist(), doses, strict=True):
        theta = reference_hours(site.conn, temp, span.start, end, ea_over_r, t_ref)
        segment = kinetics.ExposureSegment(span.start, end, tau.value, dose.best, theta, kappa.value)
        thermal = data_bounds.thermal_range(drug, temp, theta, (end - span.start) / SECONDS_PER_HOUR, [])
        out.append(SegmentRange(segment, interval_of(tau), interval_of(kappa), dose, unbounded, thermal))
    return out


def potency_at(
    conn: sqlite3.Connection, catalog: Catalog, vial: VialRecord, times: FloatArray
) -> list[PotencyAt]:
    """The vial's potency at each of ``times`` (as :func:`monitor.exposure.vial_potency` with ``as_of``)."""
    order = np.sort(np.asarray(times, dtype=np.float64))
    if not len(order):
        return []
    site = SiteView(conn)
    drug = catalog.drug(vial.drug)
    form = catalog.form(vial.drug, vial.form)
    slow, fast = kinetics.photolysis_rate_range(drug, form)
    k_light = Interval(kinetics.photolysis_rate_per_lux_hour(drug, form), slow, fast)
    k_ref = drug.k_ref_per_hour.value
    stretches = spans(vial_store.events(conn, vial.id), float(order[-1]))
    whole = segment_ranges(site, catalog, drug, stretches, [])
    # Each time: the stretches that ended by it, and the one it falls in, cut there.
    cuts: dict[int, list[SegmentRange]] = {}
    for j, span in enumerate(stretches):
        inside = order[(order > span.start) & (order < span.end)]
        if len(inside):
            cuts[j] = _cut(site, catalog, drug, span, inside)
    out: list[PotencyAt] = []
    taken = dict.fromkeys(cuts, 0)
    for ts in order.tolist():
        segments: list[SegmentRange] = []
        for j, span in enumerate(stretches):
            if span.end <= ts:
                segments.append(whole[j])
            elif span.start < ts:
                segments.append(cuts[j][taken[j]])
                taken[j] += 1
        r = bounds.potency_range(vial.initial_potency_percent, k_light, k_ref, segments)
        out.append(PotencyAt(ts, r.percent, r.effective_lux_hours))
    return out
