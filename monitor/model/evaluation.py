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

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from monitor.model import dose_ranges, kinetics, measured_kappa, stretches
from monitor.model.bounds import Interval
from monitor.model.inputs import LocationInputs, ModelInputs, VialInputs
from monitor.model.kinetics import FloatArray
from monitor.model.profiles import Catalog
from monitor.model.time_left import TimeToThreshold, time_to_threshold
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


@dataclass(slots=True)
class _Rows:
    """One row a stretch cut at one evaluation time, in the order the sums add them."""

    evaluation: list[FloatArray] = field(default_factory=list)
    start: list[FloatArray] = field(default_factory=list)
    end: list[FloatArray] = field(default_factory=list)
    location: list[int] = field(default_factory=list)
    vial: list[int] = field(default_factory=list)
    packaging: list[str] = field(default_factory=list)
    silent: list[bool] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def add(
        self,
        evaluation: FloatArray,
        start: float,
        end: FloatArray,
        span: stretches.Stretch,
        vial: int,
        silent: bool,
    ) -> None:
        self.evaluation.append(evaluation)
        self.start.append(np.full(len(end), start))
        self.end.append(end)
        self.location.append(span.location_id)
        self.vial.append(vial)
        self.packaging.append(span.packaging)
        self.silent.append(silent)
        self.sizes.append(len(end))


def _rows(vials: Sequence[VialInputs], offsets: Sequence[int]) -> _Rows:
    rows = _Rows()
    for v, (vial, offset) in enumerate(zip(vials, offsets, strict=True)):
        times = vial.times
        if not len(times):
            continue
        for span in stretches.spans(vial.events, float(times[-1])):
            inside = np.flatnonzero(times > span.start)
            if len(inside):
                ends = np.minimum(times[inside], span.end)
                rows.add((offset + inside).astype(np.float64), span.start, ends, span, v, False)
        if vial.silence_from is not None and vial.now is not None:
            last = np.array([offset + len(times) - 1], dtype=np.float64)
            for span in stretches.silent_stretches(vial.events, vial.silence_from, vial.now):
                rows.add(last, span.start, np.array([span.end]), span, v, True)
    return rows


def _kappa(
    catalog: Catalog, location: LocationInputs, start: FloatArray, end: FloatArray, best_lux_hours: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, list[tuple[Interval, float, float | None] | None]]:
    """κ_s over each stretch: measured where a spectral (or UV) sensor saw light, else the lamp's; also,
    per row, the measured κ_s, its share and the daylight share (None: the lamp's alone)."""
    lamp = measured_kappa.lamp_kappa(catalog, location.lamp)
    n = len(start)
    best, low, high = np.full(n, lamp.best), np.full(n, lamp.low), np.full(n, lamp.high)
    facts: list[tuple[Interval, float, float | None] | None] = [None] * n
    if location.spectral is not None:
        seen = location.spectral.lux_ledger.at(end) - location.spectral.lux_ledger.at(start)
        weighted = location.spectral.kappa_lux_ledger.at(end) - location.spectral.kappa_lux_ledger.at(start)
    elif location.uv is not None:
        seen = location.uv.lux_ledger.at(end) - location.uv.lux_ledger.at(start)
        weighted = location.uv.near_uv_ledger.at(end) - location.uv.near_uv_ledger.at(start)
    else:
        return best, low, high, facts
    for k in np.flatnonzero((seen > 0.0) & (end > start)).tolist():
        daylight: float | None = None
        if location.spectral is not None:
            measured = measured_kappa.measured(catalog, float(weighted[k] / seen[k]))
        else:
            measured, daylight = measured_kappa.daylight_mix(catalog, lamp, float(weighted[k] / seen[k]))
        lux_hours = float(best_lux_hours[k])
        share = 1.0 if lux_hours <= 0.0 else min(float(seen[k]) / lux_hours, 1.0)
        kappa = measured_kappa.blend(share, measured, lamp)
        best[k], low[k], high[k] = kappa.best, kappa.low, kappa.high
        facts[k] = (measured, share, daylight)
    return best, low, high, facts


def evaluate(inputs: ModelInputs, catalog: Catalog, threshold_percent: float) -> list[VialEvaluation]:
    """Every vial of ``inputs`` at each of its times, and as of its data with its time left."""
    vials = inputs.vials
    sizes = [len(v.times) for v in vials]
    offsets = np.concatenate(([0], np.cumsum(sizes)))[:-1].astype(np.int64).tolist()
    total = int(sum(sizes))
    rows = _rows(vials, offsets)
    n = int(sum(rows.sizes))
    evaluation = np.concatenate(rows.evaluation).astype(np.int64) if n else np.zeros(0, np.int64)
    start = np.concatenate(rows.start) if n else np.zeros(0)
    end = np.concatenate(rows.end) if n else np.zeros(0)
    block = np.repeat(np.arange(len(rows.sizes)), rows.sizes)
    location = np.asarray(rows.location, dtype=np.int64)[block] if n else np.zeros(0, np.int64)
    silent = np.asarray(rows.silent, dtype=bool)[block] if n else np.zeros(0, bool)
    vial_of_row = np.asarray(rows.vial, dtype=np.int64)[block] if n else np.zeros(0, np.int64)
    tau = np.array([_tau(catalog, p) for p in rows.packaging]).reshape(-1, 3)[block]
    hours = (end - start) / SECONDS_PER_HOUR
    dose = {name: np.zeros(n) for name in ("best", "low", "high", "covered", "unseen", "bound")}
    unbounded, saturated = np.zeros(n, bool), np.zeros(n, np.int64)
    kappa = np.zeros((n, 3))
    theta = np.zeros((n, 3))
    g = np.ones(n)
    celsius = np.full(n, math.nan)
    kappa_facts: list[tuple[Interval, float, float | None] | None] = [None] * n
    drugs = [catalog.drug(v.drug) for v in vials]
    for loc_id in np.unique(location).tolist():
        at = np.flatnonzero(location == loc_id)
        loc = inputs.locations[loc_id]
        d = dose_ranges.dose_ranges(loc, start[at], end[at])
        quiet = silent[at]
        dose["best"][at] = np.where(quiet, 0.0, d.best)
        dose["low"][at] = np.where(quiet, 0.0, d.low)
        dose["high"][at] = d.high
        dose["covered"][at], dose["unseen"][at], dose["bound"][at] = (
            d.covered_hours,
            d.unseen_hours,
            d.unseen_bound_lux,
        )
        unbounded[at], saturated[at] = d.unbounded, d.saturated_count
        kb, kl, kh, facts = _kappa(catalog, loc, start[at], end[at], d.best)
        lamp = measured_kappa.lamp_kappa(catalog, loc.lamp)
        kappa[at] = np.where(quiet[:, None], [lamp.best, lamp.low, lamp.high], np.stack([kb, kl, kh], axis=1))
        for k, fact in zip(at.tolist(), facts, strict=True):
            kappa_facts[k] = None if silent[k] else fact
        for v in np.unique(vial_of_row[at]).tolist():
            mine = at[(vial_of_row[at] == v) & ~quiet]
            if not len(mine):
                continue
            drug = drugs[v]
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

    effective_best = total_of(kappa[:, 0] * tau[:, 0] * dose["best"])
    most = total_of(kappa[:, 2] * tau[:, 2] * dose["high"])
    least = total_of(kappa[:, 1] * tau[:, 1] * dose["low"])
    light_best = total_of(kappa[:, 0] * tau[:, 0] * g * dose["best"])
    light_most = total_of(kappa[:, 2] * tau[:, 2] * g * dose["high"])
    light_least = total_of(kappa[:, 1] * tau[:, 1] * g * dose["low"])
    thermal = [total_of(theta[:, i]) for i in range(3)]
    blind = np.bincount(
        evaluation, weights=(keep & unbounded & (kappa[:, 2] * tau[:, 2] > 0)), minlength=total
    )
    vial_of_eval = np.repeat(np.arange(len(vials)), sizes)
    rates = np.array([_rates(catalog, v) for v in vials]).reshape(-1, 4)[vial_of_eval]
    k_best, k_low, k_high, k_ref = rates[:, 0], rates[:, 1], rates[:, 2], rates[:, 3]
    f0 = np.array([v.initial_potency_percent for v in vials])[vial_of_eval]
    best = f0 * np.exp(-(k_best * light_best + k_ref * thermal[0]))
    low = np.where(blind[:total] > 0, 0.0, f0 * np.exp(-(k_high * light_most + k_ref * thermal[2])))
    high = f0 * np.exp(-(k_low * light_least + k_ref * thermal[1]))
    # Rounding can put the corners a hair across the best value when every range is exact.
    low, high = np.minimum(low, best), np.maximum(high, best)
    eff_low, eff_high = np.minimum(least, effective_best), np.maximum(most, effective_best)
    out: list[VialEvaluation] = []
    for v, vial in enumerate(vials):
        a, b = offsets[v], offsets[v] + sizes[v]
        series = PotencySeries(
            vial.times, best[a:b], low[a:b], high[a:b], effective_best[a:b], eff_low[a:b], eff_high[a:b]
        )
        mine = np.flatnonzero((vial_of_row == v) & (evaluation == b - 1)) if b > a else np.zeros(0, np.int64)
        rows_now = [
            RowFacts(
                location=inputs.locations[int(location[k])],
                silent=bool(silent[k]),
                hours=float(hours[k]),
                covered_hours=float(dose["covered"][k]),
                unseen_hours=float(dose["unseen"][k]),
                bound_lux=float(dose["bound"][k]),
                saturated=int(saturated[k]),
                kappa=kappa_facts[k],
                thermal=(float(theta[k, 1]), float(theta[k, 2]), float(celsius[k])),
            )
            for k in mine.tolist()
        ]
        out.append(_as_of(catalog, inputs, vial, series, rows_now, threshold_percent))
    return out


def _tau(catalog: Catalog, packaging: str) -> tuple[float, float, float]:
    t = catalog.packaging_state(packaging).tau
    return t.value, t.lowest, t.highest


def _rates(catalog: Catalog, vial: VialInputs) -> tuple[float, float, float, float]:
    drug, form = catalog.drug(vial.drug), catalog.form(vial.drug, vial.form)
    slow, fast = kinetics.photolysis_rate_range(drug, form)
    return kinetics.photolysis_rate_per_lux_hour(drug, form), slow, fast, drug.k_ref_per_hour.value


def _as_of(
    catalog: Catalog,
    inputs: ModelInputs,
    vial: VialInputs,
    series: PotencySeries,
    facts: list[RowFacts],
    threshold_percent: float,
) -> VialEvaluation:
    drug, form = catalog.drug(vial.drug), catalog.form(vial.drug, vial.form)
    slow, fast = kinetics.photolysis_rate_range(drug, form)
    k_light = Interval(kinetics.photolysis_rate_per_lux_hour(drug, form), slow, fast)
    last = len(series.times) - 1
    percent = series.percent(last) if last >= 0 else Interval.exact(vial.initial_potency_percent)
    effective = series.effective_lux_hours(last) if last >= 0 else Interval.exact(0.0)
    reference = vial.as_of if vial.now is None else max(vial.now, vial.as_of)
    location, packaging = stretches.current(e for e in vial.events if e.ts <= reference)
    reconstituted = stretches.reconstituted(vial.events)
    where = None if location is None else inputs.locations.get(location)
    ttt = None
    if stretches.ended(vial.events) is None:
        ttt = time_to_threshold(
            catalog,
            drug,
            form,
            where,
            None if where is None or packaging is None else packaging,
            percent,
            k_light,
            reconstituted,
            reference,
            threshold_percent,
        )
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
        uncertainty=words(drug, facts, k_light),
        time_to_threshold=ttt,
    )


def evaluate_one(inputs: ModelInputs, catalog: Catalog, threshold_percent: float) -> VialEvaluation:
    (only,) = evaluate(inputs, catalog, threshold_percent)
    return only
