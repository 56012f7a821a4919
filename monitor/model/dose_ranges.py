"""What a location's data vouch for over many stretches at once: the dose and the heat, as ranges.

Each function takes arrays of stretch starts and ends at one location and returns arrays, one entry a
stretch. The ledger gives the best estimate; the data bound what it cannot see (photokinetics.md §7): the
light sensor's calibration uncertainty, time without readings (recorded gaps, before its first reading and
after its last), saturated readings (lower bounds only), and for the thermal term the activation energy's
range and the temperature probe's calibration. Pure: the loader's arrays in, arrays out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from monitor.model import kinetics
from monitor.model.inputs import LightRecord, LocationInputs, TemperatureRecord
from monitor.model.kinetics import FloatArray
from monitor.model.profiles import DrugModel

SECONDS_PER_HOUR = 3600.0
# Without a configured worst case, light in a gap is bounded by the highest lux seen over the stretch and
# this long either side of it (by whole clock hours): the day after matters for a stretch in the past,
# above all the time between a vial's registration and its sensor's first reading.
HIGHEST_SEEN_WINDOW_SECONDS = 86_400.0

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class DoseRanges:
    """Lux·h over each stretch: best, low and high, and what widened them (for the words)."""

    best: FloatArray
    low: FloatArray
    high: FloatArray
    unbounded: BoolArray  # light the sensor did not see, with nothing to bound it
    covered_hours: FloatArray
    unseen_hours: FloatArray
    unseen_bound_lux: FloatArray  # the lux unseen light is taken at; NaN: nothing bounds it
    saturated_count: NDArray[np.int64]
    assumed: BoolArray  # bounded by the packaging's assumed lux for unseen light (``assumed_lux``)


def hour_of(ts: FloatArray) -> FloatArray:
    """The start of the clock hour (UTC) holding each of ``ts``."""
    hours: FloatArray = np.floor(ts / SECONDS_PER_HOUR) * SECONDS_PER_HOUR
    return hours


def _gap_seconds_before(light: LightRecord, t: FloatArray) -> FloatArray:
    """Σ over recorded gaps of their overlap with (−∞, t]: the overlap with [s, e] is the difference."""
    starts, ends = np.sort(light.gap_starts), np.sort(light.gap_ends)
    if not len(starts):
        return np.zeros_like(t)
    origin = float(starts[0])  # nearer numbers keep the sums exact to well under a millisecond
    s, e, x = starts - origin, ends - origin, t - origin
    cs, ce = np.concatenate(([0.0], np.cumsum(s))), np.concatenate(([0.0], np.cumsum(e)))
    i, j = np.searchsorted(s, x, side="left"), np.searchsorted(e, x, side="left")
    total: FloatArray = (i * x - cs[i]) - (j * x - ce[j])
    return total


def unseen_seconds(light: LightRecord, start: FloatArray, end: FloatArray) -> FloatArray:
    """Time in each [start, end] the sensor did not cover: recorded gaps, and before its first or after
    its last reading when that is longer than a gap (after it, beyond the bridge's commit window too:
    readings spooled but not yet committed are not a silence)."""
    length = end - start
    if light.first_ts is None:
        return length
    gap = _gap_seconds_before(light, end) - _gap_seconds_before(light, start)
    first = light.first_ts
    last = first if light.last_ts is None else light.last_ts
    head = np.where(first - start > light.max_gap_seconds, np.minimum(end, first) - start, 0.0)
    tail = np.where(end - last > light.tolerance_seconds, end - np.maximum(start, last), 0.0)
    total: FloatArray = np.minimum(gap + np.maximum(head, 0.0) + np.maximum(tail, 0.0), length)
    return total


def highest_windows(start: FloatArray, end: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The hours each stretch's bound on unseen light reads: from the clock hour of the earlier of its
    start and a day before its end, to a day after its end."""
    return hour_of(np.minimum(start, end - HIGHEST_SEEN_WINDOW_SECONDS)), end + HIGHEST_SEEN_WINDOW_SECONDS


def highest_lux(light: LightRecord, start: FloatArray, end: FloatArray) -> FloatArray:
    """The highest hourly maximum over each stretch and a day either side; NaN where none was recorded."""
    since, until = highest_windows(start, end)
    lo = np.searchsorted(light.hour_ts, since, side="left")
    hi = np.searchsorted(light.hour_ts, until, side="right")
    out = np.full(len(start), math.nan)
    values = light.hour_max_lux
    if not len(values):
        return out
    # A sparse table: level k holds the maximum of 2**k hours from each index, so any range is two lookups.
    levels = [values]
    while 2 ** len(levels) <= len(values):
        prev, step = levels[-1], 2 ** (len(levels) - 1)
        levels.append(np.maximum(prev[:-step], prev[step:]))
    has = hi > lo
    width = (hi - lo)[has]
    k = np.floor(np.log2(np.maximum(width, 1))).astype(np.int64)
    for level in np.unique(k).tolist():
        rows = np.flatnonzero(has)[k == level]
        a, b = lo[rows], hi[rows] - 2**level
        out[rows] = np.maximum(levels[level][a], levels[level][b])
    return out


def _saturated(light: LightRecord, start: FloatArray, end: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Count and lux sum of saturated readings in each [start, end], raw and aggregated past retention."""
    i = np.searchsorted(light.saturated_ts, start, side="left")
    j = np.searchsorted(light.saturated_ts, end, side="right")
    raw_lux = np.concatenate(([0.0], np.cumsum(light.saturated_lux)))
    lo = np.searchsorted(light.minute_first_ts, start, side="left")
    hi = np.maximum(np.searchsorted(light.minute_last_ts, end, side="right"), lo)
    m_count = np.concatenate(([0.0], np.cumsum(light.minute_saturated)))
    m_lux = np.concatenate(([0.0], np.cumsum(light.minute_saturated_lux)))
    count = (j - i) + (m_count[hi] - m_count[lo])
    lux = (raw_lux[j] - raw_lux[i]) + (m_lux[hi] - m_lux[lo])
    return count, lux


def dose_ranges(
    location: LocationInputs, start: FloatArray, end: FloatArray, assumed_lux: FloatArray | None = None
) -> DoseRanges:
    """Lux·h at ``location`` over each [start, end]: best from its light sensor's ledger, and what the
    sensor cannot rule out, with the location's worst-case lux (None: the highest seen). Light nothing
    bounds is taken at ``assumed_lux`` (per stretch, the high end of its packaging's assumption; NaN where
    it has none), else left unbounded."""
    hours = (end - start) / SECONDS_PER_HOUR
    n = len(start)
    zeros, nan = np.zeros(n), np.full(n, math.nan)
    assumed = nan if assumed_lux is None else np.asarray(assumed_lux, dtype=np.float64)
    has_assumed = ~np.isnan(assumed)
    none, counts = np.zeros(n, bool), np.zeros(n, np.int64)
    worst, light = location.worst_case_lux, location.light
    if light is None:
        if worst is None:
            high = np.nan_to_num(assumed) * hours
            return DoseRanges(zeros, zeros, high, ~has_assumed, zeros, hours, assumed, counts, has_assumed)
        return DoseRanges(zeros, zeros, worst * hours, none, zeros, hours, zeros + worst, counts, none)
    best = light.ledger.at(end) - light.ledger.at(start)
    unseen = unseen_seconds(light, start, end) / SECONDS_PER_HOUR
    covered = np.maximum(hours - unseen, 0.0)
    u = light.calibration_uncertainty_lux
    low, high = np.maximum(best - u * covered, 0.0), best + u * covered
    bound = nan
    used = np.zeros(n, bool)
    if np.any(unseen > 0):
        bound = np.full(n, worst) if worst is not None else highest_lux(light, start, end)
        used = (unseen > 0) & np.isnan(bound) & has_assumed
        bound = np.where(used, assumed, bound)
    unbounded = (unseen > 0) & np.isnan(bound)
    high = np.where((unseen > 0) & ~np.isnan(bound), high + np.nan_to_num(bound) * unseen, high)
    count, lux_sum = _saturated(light, start, end)
    up_to = np.full(n, worst) if worst is not None else assumed
    excess = (
        np.maximum(np.nan_to_num(up_to) * count - lux_sum, 0.0) * light.interval_seconds / SECONDS_PER_HOUR
    )
    high = np.where((count > 0) & ~np.isnan(up_to), high + excess, high)
    unbounded |= (count > 0) & np.isnan(up_to)
    if worst is None:
        used |= (count > 0) & has_assumed
    return DoseRanges(
        best, np.minimum(low, best), high, unbounded, covered, unseen, bound, count.astype(np.int64), used
    )


def _standard_ea(drug: DrugModel) -> bool:
    """Whether the thermal ledger already holds the drug's Θ (every shipped profile: USP MKT's Ea)."""
    return math.isclose(
        kinetics.ea_over_r(drug), kinetics.MKT_DELTA_H_OVER_R_KELVIN, rel_tol=1e-9
    ) and math.isclose(drug.t_ref_kelvin.value, kinetics.LEDGER_T_REF_KELVIN)


def needs_temperature_series(drug: DrugModel) -> bool:
    """Whether Θ for ``drug`` needs the raw temperatures: its Ea or T_ref is not the ledger's."""
    return not _standard_ea(drug)


def reference_hours(
    temperature: TemperatureRecord | None, drug: DrugModel, start: FloatArray, end: FloatArray
) -> FloatArray:
    """Θ = ∫ exp(−(Ea/R)(1/T − 1/T_ref)) dt over each [start, end] in hours, for the drug's own Ea: the
    ledger's difference, or for another Ea the trapezoids between the readings inside the stretch."""
    if temperature is None:
        return np.zeros(len(start))
    if _standard_ea(drug):
        theta: FloatArray = temperature.ledger.at(end) - temperature.ledger.at(start)
        return theta
    ts, celsius = temperature.series_ts, temperature.series_celsius
    if ts is None or celsius is None or len(ts) < 2:
        return np.zeros(len(start))
    factor = kinetics.arrhenius_factor(
        celsius + kinetics.CELSIUS_TO_KELVIN, kinetics.ea_over_r(drug), drug.t_ref_kelvin.value
    )
    dt = np.diff(ts)
    pieces = np.where(dt <= temperature.max_gap_seconds, dt * (factor[1:] + factor[:-1]) / 2.0, 0.0)
    cumulative = np.concatenate(([0.0], np.cumsum(pieces)))
    i = np.searchsorted(ts, start, side="left")
    j = np.searchsorted(ts, end, side="right") - 1
    out: FloatArray = np.where(j > i, cumulative[np.maximum(j, 0)] - cumulative[i], 0.0) / SECONDS_PER_HOUR
    return out


@dataclass(frozen=True, slots=True)
class ThermalRanges:
    best: FloatArray
    low: FloatArray
    high: FloatArray
    celsius: FloatArray  # the effective temperature the range is taken at; NaN where exact


def thermal_ranges(
    drug: DrugModel, temperature: TemperatureRecord | None, theta: FloatArray, hours: FloatArray
) -> ThermalRanges:
    """Θ over the activation energy's range and ± the temperature sensor's calibration uncertainty.

    Taken at each stretch's effective temperature (the one whose Arrhenius factor gives Θ over its hours):
    exact for a constant temperature, and the thermal term is small beside the light term's range.
    """
    n = len(theta)
    if temperature is None:
        return ThermalRanges(theta, theta, theta, np.full(n, math.nan))
    ranged = (theta > 0) & (hours > 0)
    safe_theta, safe_hours = np.where(ranged, theta, 1.0), np.where(ranged, hours, 1.0)
    ea, t_ref = drug.activation_energy_kj_per_mol, drug.t_ref_kelvin.value
    kelvin = 1.0 / (1.0 / t_ref - np.log(safe_theta / safe_hours) / kinetics.ea_over_r(drug))
    u = temperature.calibration_uncertainty_celsius
    low, high = theta.copy(), theta.copy()
    for ea_kj in (ea.lowest, ea.value, ea.highest):
        for t in (kelvin - u, kelvin + u):
            candidate = safe_hours * kinetics.arrhenius_factor(
                t, ea_kj / kinetics.GAS_CONSTANT_KJ_PER_MOL_K, t_ref
            )
            low, high = np.minimum(low, candidate), np.maximum(high, candidate)
    low, high = np.where(ranged, low, theta), np.where(ranged, high, theta)
    celsius = np.where(ranged, kelvin - kinetics.CELSIUS_TO_KELVIN, math.nan)
    return ThermalRanges(theta, low, high, celsius)


def light_temperature_factors(
    drug: DrugModel, temperature: TemperatureRecord | None, start: FloatArray, end: FloatArray
) -> FloatArray:
    """g(T) over each stretch, at its mean kinetic temperature (exact for a constant temperature)."""
    if drug.light_activation_energy_kj_per_mol is None or temperature is None:
        return np.ones(len(start))
    equivalent = temperature.ledger.at(end) - temperature.ledger.at(start)
    out = np.ones(len(start))
    for k, (eq, s, e) in enumerate(zip(equivalent.tolist(), start.tolist(), end.tolist(), strict=True)):
        if eq > 0 and e > s:
            kelvin = kinetics.mean_kinetic_temperature_kelvin(eq, (e - s) / SECONDS_PER_HOUR)
            out[k] = kinetics.light_temperature_factor(drug, kelvin)
    return out
