"""Potency best, low and high, effective dose and time left, for many vials at many times in one pass.

From one load (:class:`monitor.model.inputs.ModelInputs`): each vial's stretches (:mod:`monitor.model.
stretches`) are cut at each of its evaluation times into rows, one row a stretch up to a time. The rows of
all vials are grouped by location and their dose ranges, κ_s, packaging, Θ and g(T) computed as arrays
(:mod:`monitor.model.dose_ranges`); the sums per (vial, time) are one ``bincount`` each. The result per
time is :func:`monitor.model.bounds.potency_range` over the same stretches (a test holds them equal): the
best estimate at the profile's values, the bounds at the corners of every range. A curve of 500 points is
one pass, and so is a list of a thousand vials.

After the data's time, stretches a silent sensor should have covered widen the low bound up to ``now``:
nothing for the best estimate, what the silence cannot rule out for the low bound.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from monitor.model import carried_states, dose_ranges, kinetics, measured_kappa, place_rates, stretches
from monitor.model.bounds import Interval
from monitor.model.inputs import LocationInputs, ModelInputs, PotencyState, VialInputs
from monitor.model.kinetics import FloatArray
from monitor.model.measured_kappa import KappaFacts
from monitor.model.profiles import Catalog
from monitor.model.spectral import daylight_share
from monitor.model.time_left import LossRates, TimeToThreshold, present_rates, time_to_threshold
from monitor.model.uncertainty_words import RowFacts, words

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class PotencySeries:
    """A vial's potency (% of label) and effective dose ∫ κ_s·τ_pkg·E dt (lux·h) at each of ``times``."""

    times: FloatArray
    percent_best: FloatArray
    percent_low: FloatArray
    percent_high: FloatArray
    effective_best: FloatArray
    effective_low: FloatArray
    effective_high: FloatArray

    def percent(self, i: int) -> Interval:
        return Interval(float(self.percent_best[i]), float(self.percent_low[i]), float(self.percent_high[i]))

    def effective_lux_hours(self, i: int) -> Interval:
        return Interval(
            float(self.effective_best[i]), float(self.effective_low[i]), float(self.effective_high[i])
        )


@dataclass(frozen=True, slots=True)
class VialEvaluation:
    """A vial's potency over its evaluation times and, as of its data, what the verdict reads."""

    vial_id: int
    series: PotencySeries
    as_of: float
    percent: Interval  # at ``as_of``, silent stretches up to ``now`` included in the low bound
    effective_lux_hours: Interval
    location_id: int | None  # where it is at ``now`` (or ``as_of``)
    packaging: str | None
    lamp: str | None
    reconstituted_ts: float | None
    uncertainty: tuple[str, ...]  # what widened the bounds, in words
    time_to_threshold: TimeToThreshold | None  # None once administered or discarded
    state: PotencyState  # the sums at ``as_of``: what a hand-over to another site carries


@dataclass(slots=True)
class _Rows:
    """One row a stretch cut at one evaluation time, flat, in the order the sums add them."""

    evaluation: list[int] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    end: list[float] = field(default_factory=list)
    location: list[int] = field(default_factory=list)
    vial: list[int] = field(default_factory=list)
    packaging: list[str] = field(default_factory=list)
    silent: list[bool] = field(default_factory=list)

    def add(
        self, evaluation: list[int], ends: list[float], span: stretches.Stretch, vial: int, silent: bool
    ) -> None:
        k = len(ends)
        self.evaluation += evaluation
        self.start += [span.start] * k
        self.end += ends
        self.location += [span.location_id] * k
        self.vial += [vial] * k
        self.packaging += [span.packaging] * k
        self.silent += [silent] * k


def _rows(vials: Sequence[VialInputs], offsets: Sequence[int]) -> _Rows:
    rows = _Rows()
    for v, (vial, offset) in enumerate(zip(vials, offsets, strict=True)):
        times = vial.times.tolist()
        if not times:
            continue
        received = [c.ts for c in vial.carried]
        for span in stretches.spans(vial.events, times[-1]):
            first, last = stretches.reach(times, span.start, received)
            if first < last:
                ends = [min(t, span.end) for t in times[first:last]]
                rows.add(list(range(offset + first, offset + last)), ends, span, v, False)
        if vial.silence_from is not None and vial.now is not None:
            last = offset + len(times) - 1
            for span in stretches.silent_stretches(vial.events, vial.silence_from, vial.now):
                rows.add([last], [span.end], span, v, True)
    return rows


def evaluate(inputs: ModelInputs, catalog: Catalog, threshold_percent: float) -> list[VialEvaluation]:
    """Every vial of ``inputs`` at each of its times, and as of its data with its time left."""
    vials = inputs.vials
    sizes = [len(v.times) for v in vials]
    offsets = [0, *itertools.accumulate(sizes)][:-1]
    total = int(sum(sizes))
    rows = _rows(vials, offsets)
    n = len(rows.evaluation)
    evaluation = np.asarray(rows.evaluation, dtype=np.int64)
    start, end = np.asarray(rows.start, dtype=np.float64), np.asarray(rows.end, dtype=np.float64)
    location = np.asarray(rows.location, dtype=np.int64)
    silent = np.asarray(rows.silent, dtype=bool)
    vial_of_row = np.asarray(rows.vial, dtype=np.int64)
    taus = {p: _tau(catalog, p) for p in set(rows.packaging)}
    unseen_lux = {p: catalog.packaging_state(p).unseen_lux for p in set(rows.packaging)}
    assumed_lux = np.array(
        [math.nan if (c := unseen_lux[p]) is None else c.highest for p in rows.packaging], dtype=np.float64
    )
    assumed = np.zeros(n, bool)
    tau = np.array([taus[p] for p in rows.packaging], dtype=np.float64).reshape(-1, 3)
    drug_names = sorted({v.drug for v in vials})
    drug_of_vial = np.array([drug_names.index(v.drug) for v in vials], dtype=np.int64)
    drug_of_row = drug_of_vial[vial_of_row] if n else np.zeros(0, np.int64)
    hours = (end - start) / SECONDS_PER_HOUR
    dose = {name: np.zeros(n) for name in ("best", "low", "high", "covered", "unseen", "bound")}
    unbounded, saturated = np.zeros(n, bool), np.zeros(n, np.int64)
    kappa = np.zeros((n, 3))
    theta = np.zeros((n, 3))
    g = np.ones(n)
    celsius = np.full(n, math.nan)
    kappa_facts: list[KappaFacts | None] = [None] * n
    measured_light: list[place_rates.MeasuredLight | None] = [None] * n
    for loc_id in np.unique(location).tolist():
        at = np.flatnonzero(location == loc_id)
        loc = inputs.locations[loc_id]
        d = dose_ranges.dose_ranges(loc, start[at], end[at], assumed_lux[at])
        assumed[at] = d.assumed
        quiet = silent[at]
        dose["best"][at] = np.where(quiet, 0.0, d.best)
        dose["low"][at] = np.where(quiet, 0.0, d.low)
        dose["high"][at] = d.high
        dose["covered"][at], dose["unseen"][at] = d.covered_hours, d.unseen_hours
        dose["bound"][at] = d.unseen_bound_lux
        unbounded[at], saturated[at] = d.unbounded, d.saturated_count
        ks = measured_kappa.over_stretches(catalog, loc, start[at], end[at], d.best)
        lamp = measured_kappa.lamp_kappa(catalog, loc.lamp)
        measured = np.stack([ks.best, ks.low, ks.high], axis=1)
        kappa[at] = np.where(quiet[:, None], [lamp.best, lamp.low, lamp.high], measured)
        for k in np.flatnonzero(~quiet).tolist():
            kappa_facts[int(at[k])] = ks.facts[k]
            measured_light[int(at[k])] = ks.light[k]
        for i, name in enumerate(drug_names):
            mine = at[(drug_of_row[at] == i) & ~quiet]
            if not len(mine):
                continue
            drug = catalog.drug(name)
            th = dose_ranges.reference_hours(loc.temperature, drug, start[mine], end[mine])
            r = dose_ranges.thermal_ranges(drug, loc.temperature, th, hours[mine])
            theta[mine] = np.stack([r.best, r.low, r.high], axis=1)
            celsius[mine] = r.celsius
            g[mine] = dose_ranges.light_temperature_factors(drug, loc.temperature, start[mine], end[mine])
    # Silent stretches add nothing at the best values, and nothing unseen when the high end is nothing.
    keep = ~silent | (dose["high"] > 0) | unbounded

    def total_of(weights: FloatArray) -> FloatArray:
        sums = np.bincount(evaluation, weights=np.where(keep, weights, 0.0), minlength=total)
        return np.asarray(sums[:total], dtype=np.float64)

    carried = carried_states.sums(vials, total)
    effective_best = total_of(kappa[:, 0] * tau[:, 0] * dose["best"]) + carried[:, 6]
    most = total_of(kappa[:, 2] * tau[:, 2] * dose["high"]) + carried[:, 8]
    least = total_of(kappa[:, 1] * tau[:, 1] * dose["low"]) + carried[:, 7]
    thermal = [total_of(theta[:, i]) + carried[:, 3 + i] for i in range(3)]
    blind = total_of((unbounded & (kappa[:, 2] * tau[:, 2] > 0)).astype(np.float64)) + carried[:, 9]
    rates = {kind: _rates(catalog, *kind) for kind in {(v.drug, v.form) for v in vials}}
    per_vial = np.array(
        [
            (r.k_light.best, r.k_light.low, r.k_light.high, r.k_ref_per_hour)
            for r in (rates[v.drug, v.form] for v in vials)
        ],
        dtype=np.float64,
    ).reshape(-1, 4)
    joint = place_rates.joint_rates(catalog)
    rate = _row_rates(
        inputs, rows, per_vial[vial_of_row, :3] * kappa * tau, kappa_facts, measured_light, joint
    )
    light_best = total_of(rate[:, 0] * g * dose["best"]) + carried[:, 0]
    light_most = total_of(rate[:, 2] * g * dose["high"]) + carried[:, 1]
    light_least = total_of(rate[:, 1] * g * dose["low"]) + carried[:, 2]
    vial_of_eval = np.repeat(np.arange(len(vials)), sizes)
    k_ref = per_vial[vial_of_eval, 3]
    f0 = np.array([v.initial_potency_percent for v in vials], dtype=np.float64)[vial_of_eval]
    best = f0 * np.exp(-(light_best + k_ref * thermal[0]))
    low = np.where(blind > 0, 0.0, f0 * np.exp(-(light_most + k_ref * thermal[2])))
    high = f0 * np.exp(-(light_least + k_ref * thermal[1]))
    # Rounding can put the corners a hair across the best value when every range is exact.
    low, high = np.minimum(low, best), np.maximum(high, best)
    eff_low, eff_high = np.minimum(least, effective_best), np.maximum(most, effective_best)
    # The rows each vial's words and time left read: those of its last time, in order.
    last_rows: dict[int, list[int]] = {}
    for k, (e, v) in enumerate(zip(rows.evaluation, rows.vial, strict=True)):
        if e == offsets[v] + sizes[v] - 1:
            last_rows.setdefault(v, []).append(k)
    present: dict[tuple[int | None, str | None, str, str], LossRates] = {}
    out: list[VialEvaluation] = []
    for v, vial in enumerate(vials):
        a, b = offsets[v], offsets[v] + sizes[v]
        series = PotencySeries(
            vial.times, best[a:b], low[a:b], high[a:b], effective_best[a:b], eff_low[a:b], eff_high[a:b]
        )
        rows_now = [
            RowFacts(
                location=inputs.locations[rows.location[k]],
                silent=rows.silent[k],
                hours=float(hours[k]),
                covered_hours=float(dose["covered"][k]),
                unseen_hours=float(dose["unseen"][k]),
                bound_lux=float(dose["bound"][k]),
                packaging=rows.packaging[k],
                assumed_lux=unseen_lux[rows.packaging[k]] if assumed[k] else None,
                saturated=int(saturated[k]),
                kappa=kappa_facts[k],
                theta_low_hours=float(theta[k, 1]),
                theta_high_hours=float(theta[k, 2]),
                theta_celsius=float(celsius[k]),
            )
            for k in last_rows.get(v, [])
        ]
        k_light = rates[vial.drug, vial.form].k_light
        last = b - 1
        state = (
            PotencyState.zero()
            if b == a
            else PotencyState(
                light_loss_best=float(light_best[last]),
                light_loss_most=float(light_most[last]),
                light_loss_least=float(light_least[last]),
                thermal_hours_best=float(thermal[0][last]),
                thermal_hours_low=float(thermal[1][last]),
                thermal_hours_high=float(thermal[2][last]),
                effective_lux_hours_best=float(effective_best[last]),
                effective_lux_hours_least=float(least[last]),
                effective_lux_hours_most=float(most[last]),
                unbounded=bool(blind[last] > 0),
            )
        )
        out.append(
            _as_of(catalog, inputs, vial, series, rows_now, k_light, joint, present, threshold_percent, state)
        )
    return out


def _row_rates(
    inputs: ModelInputs,
    rows: _Rows,
    products: FloatArray,
    kappa_facts: Sequence[KappaFacts | None],
    measured_light: Sequence[place_rates.MeasuredLight | None],
    joint: place_rates.JointRates,
) -> FloatArray:
    """k per lux·h in each row, best, low and high (:mod:`monitor.model.place_rates`): the joint rate of
    the vial's form and packaging under the light, the lamp's or the one a sensor measured; else
    ``products`` (k·κ_s·τ_pkg)."""
    rate = np.array(products, dtype=np.float64).reshape(-1, 3)
    for k, (facts, light) in enumerate(zip(kappa_facts, measured_light, strict=True)):
        vial = inputs.vials[rows.vial[k]]
        lamp = inputs.locations[rows.location[k]].lamp
        if light is not None:
            found = joint.measured(vial.drug, vial.form, lamp, rows.packaging[k], light)
        elif facts is not None:  # κ_s measured, but no spectrum to integrate (readings before v21)
            continue
        else:
            found = joint.get(vial.drug, vial.form, lamp, rows.packaging[k])
        if found is not None:
            rate[k] = (found.best, found.low, found.high)
    return rate


def _tau(catalog: Catalog, packaging: str) -> tuple[float, float, float]:
    t = catalog.packaging_state(packaging).tau
    return t.value, t.lowest, t.highest


@dataclass(frozen=True, slots=True)
class _Rates:
    k_light: Interval  # k_thin·F(A) per lux·h: at the profile's values, slowest and fastest
    k_ref_per_hour: float


def _rates(catalog: Catalog, drug_name: str, form_name: str) -> _Rates:
    drug, form = catalog.drug(drug_name), catalog.form(drug_name, form_name)
    slow, fast = kinetics.photolysis_rate_range(drug, form)
    best = kinetics.photolysis_rate_per_lux_hour(drug, form)
    return _Rates(Interval(best, slow, fast), drug.k_ref_per_hour.value)


def _as_of(
    catalog: Catalog,
    inputs: ModelInputs,
    vial: VialInputs,
    series: PotencySeries,
    rows: list[RowFacts],
    k_light: Interval,
    joint: place_rates.JointRates,
    present: dict[tuple[int | None, str | None, str, str], LossRates],
    threshold_percent: float,
    state: PotencyState,
) -> VialEvaluation:
    drug, form = catalog.drug(vial.drug), catalog.form(vial.drug, vial.form)
    last = len(series.times) - 1
    percent = series.percent(last) if last >= 0 else Interval.exact(vial.initial_potency_percent)
    effective = series.effective_lux_hours(last) if last >= 0 else Interval.exact(0.0)
    reference = vial.as_of if vial.now is None else max(vial.now, vial.as_of)
    location, packaging = stretches.current(e for e in vial.events if e.ts <= reference)
    reconstituted = stretches.reconstituted(vial.events)
    where = None if location is None else inputs.locations.get(location)
    ttt = None
    if stretches.ended(vial.events) is None:
        key = (location, packaging, vial.drug, vial.form)
        if key not in present:  # the same for every vial of a kind in one place
            joint_now = (
                None if where is None or packaging is None else _joint_now(joint, vial, where, packaging)
            )
            present[key] = present_rates(catalog, drug, k_light, where, packaging, joint_now)
        ttt = time_to_threshold(form, percent, present[key], reconstituted, reference, threshold_percent)
    return VialEvaluation(
        vial_id=vial.id,
        series=series,
        as_of=vial.as_of,
        percent=percent,
        effective_lux_hours=effective,
        location_id=location,
        packaging=packaging,
        lamp=None if where is None else where.lamp,
        reconstituted_ts=reconstituted,
        uncertainty=(*words(drug, rows, k_light), *carried_states.words(vial, reference)),
        time_to_threshold=ttt,
        state=state,
    )


def _joint_now(
    joint: place_rates.JointRates, vial: VialInputs, where: LocationInputs, packaging: str
) -> Interval | None:
    """The joint rate of the light now: of the spectrum the spectral sensor last measured, or the
    daylight mix of the UV sensor's last lit reading, else the lamp's; None where only the product is
    known (:func:`monitor.model.time_left.present_rates` takes the measured κ_s then)."""
    light = None
    if where.spectral is not None:
        newest = where.spectral.latest_kappa
        if newest is not None and newest.peaks_per_lux is None:
            return None  # κ_s measured, its spectrum not: the product of the measured κ_s
        if newest is not None:
            light = place_rates.MeasuredLight(1.0, where.spectral.chip, newest.peaks_per_lux)
    elif where.uv is not None and where.uv.latest_lit is not None:
        lit = where.uv.latest_lit
        best, low = daylight_share(lit.near_uv_w_per_m2 / lit.lux)
        light = place_rates.MeasuredLight(1.0, daylight_best=best, daylight_low=low)
    if light is None:
        return joint.get(vial.drug, vial.form, where.lamp, packaging)
    return joint.measured(vial.drug, vial.form, where.lamp, packaging, light)


def evaluate_one(inputs: ModelInputs, catalog: Catalog, threshold_percent: float) -> VialEvaluation:
    (only,) = evaluate(inputs, catalog, threshold_percent)
    return only
