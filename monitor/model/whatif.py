"""What if a vial sat under this light, at this temperature, for this long? The live model, offline.

The series goes through the same code as the live system: :func:`monitor.model.ledger.integrate` for the
dose, :func:`monitor.model.kinetics.arrhenius_factor` for the heat, and
:func:`monitor.model.bounds.potency_range` for best, low and high (photokinetics.md §7). The dose of a
what-if is exact (no sensor, no gaps), so the bounds are the parameters' ranges and the activation energy
Ea's.

The light rate is the photolysis integral's for this form behind this packaging under this lamp
(:meth:`monitor.model.profiles.Catalog.light_rate`) where the catalogue can give it: one range over the
drawn inputs, sharper than the product of the form's rate, κ_s and τ_pkg taken each at the ends of its own
range (which hold every form, lamp and state at once; :mod:`monitor.model.light_catalog`). Its best value
is the integral's at every input's best, which the product only approximates where a thick solution sits
behind coloured glass (τ_pkg is weighted by what a thin one absorbs). A lamp or state given as a bare
number falls back to the product.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.model import bounds, kinetics, ledger
from monitor.model.bounds import Interval, PotencyRange, SegmentRange
from monitor.model.kinetics import FloatArray
from monitor.model.profiles import Catalog, DrugModel, FormModel, LampModel, PackagingModel

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Case:
    """A drug in a form and packaging, under a lamp type; with the joint light rate (per lux·h, κ_s and
    τ_pkg included) of the combination where the catalogue gives one."""

    drug: DrugModel
    form: FormModel
    packaging: PackagingModel
    lamp: LampModel
    initial_percent: float = 100.0
    joint_rate_per_lux_hour: Interval | None = None


def case_of(
    catalog: Catalog,
    drug: str,
    form: FormModel,
    packaging: str,
    lamp: str,
    initial_percent: float = 100.0,
) -> Case:
    """The case with its joint light rate from the catalogue's integral (``None`` where it has none)."""
    state, lamp_model = catalog.packaging_state(packaging), catalog.lamp(lamp)
    joint = catalog.light_rate(drug, form, lamp_model, state)
    return Case(
        drug=catalog.drug(drug),
        form=form,
        packaging=state,
        lamp=lamp_model,
        initial_percent=initial_percent,
        joint_rate_per_lux_hour=None if joint is None else Interval(joint.best, joint.low, joint.high),
    )


def _light_ranges(case: Case) -> tuple[Interval, Interval, Interval]:
    """k (per effective lux·h), τ_pkg and κ_s. With a joint rate, κ_s and τ_pkg are held at their best
    values (the effective dose stays κ_s·τ_pkg·E) and k carries the joint range over them."""
    tau = Interval(case.packaging.tau.value, case.packaging.tau.lowest, case.packaging.tau.highest)
    kappa = Interval(case.lamp.kappa.value, case.lamp.kappa.lowest, case.lamp.kappa.highest)
    joint = case.joint_rate_per_lux_hour
    scale = kappa.best * tau.best
    if joint is not None and scale > 0:
        k = Interval(joint.best / scale, joint.low / scale, joint.high / scale)
        return k, Interval.exact(tau.best), Interval.exact(kappa.best)
    slow, fast = kinetics.photolysis_rate_range(case.drug, case.form)
    return Interval(kinetics.photolysis_rate_per_lux_hour(case.drug, case.form), slow, fast), tau, kappa


@dataclass(frozen=True, slots=True)
class Point:
    hours: float
    potency: PotencyRange


@dataclass(frozen=True, slots=True)
class Prediction:
    trajectory: list[Point]  # the last point is the end of the series
    hours_to_threshold: Interval  # best / low (soonest) / high (latest); inf: never at these conditions
    threshold_percent: float

    @property
    def final(self) -> PotencyRange:
        return self.trajectory[-1].potency


def constant_series(
    lux: float, hours: float, celsius: float, step_seconds: float = 60.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Seconds, lux and °C for constant conditions over ``hours`` (samples every ``step_seconds``)."""
    if hours <= 0:
        raise ValueError(f"hours must be positive, got {hours}")
    n = max(math.ceil(hours * SECONDS_PER_HOUR / step_seconds), 1)
    t = np.linspace(0.0, hours * SECONDS_PER_HOUR, n + 1)
    return t, np.full_like(t, lux), np.full_like(t, celsius)


def _cumulative(t: FloatArray, rate: FloatArray) -> FloatArray:
    cum, _ = ledger.integrate(None, t, rate, math.inf)  # a what-if has no gaps
    return cum


def _hours_to(t_hours: FloatArray, exponent: FloatArray, final_rate: float, needed: float) -> float:
    """When the cumulative exponent reaches ``needed``: within the series, or beyond it at the last rate."""
    if needed <= 0:
        return 0.0
    if exponent[-1] >= needed:
        i = int(np.searchsorted(exponent, needed))
        if i == 0:
            return float(t_hours[0])
        x0, x1, y0, y1 = t_hours[i - 1], t_hours[i], exponent[i - 1], exponent[i]
        return float(x0 + (x1 - x0) * (needed - y0) / (y1 - y0)) if y1 > y0 else float(x1)
    if final_rate <= 0:
        return math.inf
    return float(t_hours[-1] + (needed - exponent[-1]) / final_rate)


def predict(
    case: Case,
    seconds: FloatArray,
    lux: FloatArray,
    celsius: FloatArray,
    threshold_percent: float = 90.0,
    points: int = 12,
) -> Prediction:
    """Potency best/low/high along the series, and the hours until ``threshold_percent``."""
    if len(seconds) < 2:
        raise ValueError("a series needs at least two samples")
    t = np.asarray(seconds, dtype=np.float64) - float(seconds[0])
    drug = case.drug
    kelvin = np.asarray(celsius, dtype=np.float64) + kinetics.CELSIUS_TO_KELVIN
    g = np.array([kinetics.light_temperature_factor(drug, float(k)) for k in kelvin])
    thermal_rate = kinetics.arrhenius_factor(kelvin, kinetics.ea_over_r(drug), drug.t_ref_kelvin.value)
    dose = _cumulative(t, np.asarray(lux, dtype=np.float64))
    dose_g = _cumulative(t, np.asarray(lux, dtype=np.float64) * g)
    reference = _cumulative(t, thermal_rate)
    # Θ at the ends of the activation energy's range (§7, "Range for sensitivity"): exact for a series.
    ea = drug.activation_energy_kj_per_mol
    rates = [
        kinetics.arrhenius_factor(kelvin, e / kinetics.GAS_CONSTANT_KJ_PER_MOL_K, drug.t_ref_kelvin.value)
        for e in (ea.lowest, ea.highest)
    ]
    thetas = [_cumulative(t, r) for r in rates]
    theta_low = np.minimum.reduce([reference, *thetas])
    theta_high = np.maximum.reduce([reference, *thetas])
    rate_low = min(float(thermal_rate[-1]), *(float(r[-1]) for r in rates))
    rate_high = max(float(thermal_rate[-1]), *(float(r[-1]) for r in rates))
    k, tau, kappa = _light_ranges(case)

    def at(i: int) -> PotencyRange:
        d = float(dose[i])
        theta = Interval(float(reference[i]), float(theta_low[i]), float(theta_high[i]))
        seg = kinetics.ExposureSegment(
            0.0,
            float(t[i]),
            tau.best,
            d,
            float(reference[i]),
            kappa.best,
            float(dose_g[i]) / d if d > 0 else 1.0,
        )
        return bounds.potency_range(
            case.initial_percent,
            k,
            drug.k_ref_per_hour.value,
            [SegmentRange(seg, tau, kappa, Interval.exact(d), reference_hours=theta)],
        )

    picks = sorted({*np.linspace(0, len(t) - 1, max(points, 2)).round().astype(int).tolist()})
    trajectory = [Point(float(t[i]) / SECONDS_PER_HOUR, at(i)) for i in picks]
    needed = (
        math.log(case.initial_percent / threshold_percent)
        if case.initial_percent > threshold_percent
        else 0.0
    )
    t_hours = t / SECONDS_PER_HOUR
    k_ref = drug.k_ref_per_hour.value
    hours = []
    for k_l, kap, ta, theta, theta_rate in (
        (k.best, kappa.best, tau.best, reference, float(thermal_rate[-1])),
        (k.high, kappa.high, tau.high, theta_high, rate_high),
        (k.low, kappa.low, tau.low, theta_low, rate_low),
    ):
        exponent = k_l * kap * ta * dose_g + k_ref * theta
        final_rate = k_l * kap * ta * float(lux[-1] * g[-1]) + k_ref * theta_rate
        hours.append(_hours_to(t_hours, exponent, final_rate, needed))
    return Prediction(trajectory, Interval(hours[0], hours[1], hours[2]), threshold_percent)
