"""First-order photolysis and thermal degradation: the pure numeric core of the potency model.

Model (photokinetics.md §7)::

    f(t)   = f0 · exp( −∫ (k_L + k_T) dt )
    k_L(t) = k_thin · κ_s · τ_pkg · F(A) · g(T) · E(t)   E in lux, k_thin per lux·h
    k_T(t) = k_ref · exp( −(Ea/R) · (1/T − 1/T_ref) )
    F(A)   = (1 − 10^−A) / (ln 10 · A),  A = ε̄ · c · ℓ   (the inner-filter factor; F → 1 as A → 0)

κ_s is the lamp spectrum factor (§6 table), τ_pkg the packaging transmittance, g(T) an optional Arrhenius
factor on photolysis (§7: none by default, so g = 1). The effective dose is ∫ κ_s · τ_pkg · E dt (§7).
The reference writes ln 10 as 2.303; the exact value makes F(0) exactly 1. Functions here take numbers or
numpy arrays and return the same; no IO, no clock, no logging.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from monitor.model.profiles import DrugModel, FormModel

LN10 = math.log(10.0)
# Molar gas constant in kJ/(mol·K), as used with ΔH = 83.144 kJ/mol for USP mean kinetic temperature
# (photokinetics.md §4, ref #31), so that ΔH/R = 10,000 K.
GAS_CONSTANT_KJ_PER_MOL_K = 8.3144621e-3
MKT_DELTA_H_OVER_R_KELVIN = 83.144 / GAS_CONSTANT_KJ_PER_MOL_K
# Reference temperature of the location thermal ledger: 25 °C, the ICH long-term condition (§7).
LEDGER_T_REF_KELVIN = 298.15
CELSIUS_TO_KELVIN = 273.15

FloatArray = NDArray[np.float64]


def inner_filter_factor(absorbance: float) -> float:
    """F(A) = (1 − 10^−A) / (ln 10 · A): the mean light a molecule gets in an absorbing solution.

    Tends to 1 for an optically thin solution and to 1/(ln 10 · A) for a thick one (§7).
    """
    if absorbance < 0:
        raise ValueError(f"absorbance must be non-negative, got {absorbance}")
    x = LN10 * absorbance
    if x < 1e-8:
        return 1.0 - x / 2.0  # series expansion: avoids 0/0 and cancellation near A = 0
    return -math.expm1(-x) / x


def absorbance_of(
    epsilon_per_molar_cm: float, concentration_mg_per_ml: float, molar_mass_g_per_mol: float, path_cm: float
) -> float:
    """A = ε̄ · c · ℓ, with c converted from mg/mL (= g/L) to mol/L by the molar mass."""
    return epsilon_per_molar_cm * (concentration_mg_per_ml / molar_mass_g_per_mol) * path_cm


def absorbance(drug: DrugModel, form: FormModel) -> float:
    """A = ε̄ · c · ℓ of a form, at the profile's values."""
    return absorbance_of(
        drug.epsilon_per_molar_cm.value,
        form.concentration_mg_per_ml.value,
        drug.molar_mass_g_per_mol.value,
        form.path_cm.value,
    )


def photolysis_rate_per_lux_hour(drug: DrugModel, form: FormModel) -> float:
    """The form's loss rate per (effective) lux·h, before packaging: the photolysis integral's, derived at
    load (:mod:`monitor.model.light_catalog`); for a drug without an absorption spectrum, k_thin · F(A)."""
    derived = form.light_rate_per_lux_hour
    if derived is not None:
        return derived.value
    return drug.k_thin_per_lux_hour.value * inner_filter_factor(absorbance(drug, form))


def photolysis_rate_range(drug: DrugModel, form: FormModel) -> tuple[float, float]:
    """The slowest and fastest rate of the form: the integral's range where it was derived (the series' fit
    and lux meter, the calibration source's spectrum, ε(λ), the path), else k_thin · F(A) at the corners
    of the profile's parameter ranges (§7 "Range").

    For the latter: the rate rises with k_thin and falls with A (F is decreasing), so the extremes are the
    corners: fastest at the highest k_thin and the lowest ε̄, c and ℓ; slowest at the opposite corner.
    """
    derived = form.light_rate_per_lux_hour
    if derived is not None:
        return derived.lowest, derived.highest
    mass = drug.molar_mass_g_per_mol.value
    eps, c, path = drug.epsilon_per_molar_cm, form.concentration_mg_per_ml, form.path_cm
    slow = drug.k_thin_per_lux_hour.lowest * inner_filter_factor(
        absorbance_of(eps.highest, c.highest, mass, path.highest)
    )
    fast = drug.k_thin_per_lux_hour.highest * inner_filter_factor(
        absorbance_of(eps.lowest, c.lowest, mass, path.lowest)
    )
    return slow, fast


def light_temperature_factor(drug: DrugModel, kelvin: float) -> float:
    """g(T): the optional Arrhenius factor on k_L (§7), 1 when the profile sets no light activation energy."""
    ea = drug.light_activation_energy_kj_per_mol
    if ea is None:
        return 1.0
    factor = arrhenius_factor(
        np.array([kelvin], dtype=np.float64), ea.value / GAS_CONSTANT_KJ_PER_MOL_K, drug.t_ref_kelvin.value
    )
    return float(factor[0])


def arrhenius_factor(kelvin: FloatArray, ea_over_r_kelvin: float, t_ref_kelvin: float) -> FloatArray:
    """exp(−(Ea/R)(1/T − 1/T_ref)): the rate at T relative to the rate at T_ref."""
    result: FloatArray = np.exp(-ea_over_r_kelvin * (1.0 / kelvin - 1.0 / t_ref_kelvin))
    return result


def ea_over_r(drug: DrugModel) -> float:
    return drug.activation_energy_kj_per_mol.value / GAS_CONSTANT_KJ_PER_MOL_K


@dataclass(frozen=True, slots=True)
class ExposureSegment:
    """A stretch of a vial's life in one location and one packaging state.

    ``lux_hours`` is the location ledger's dose over the segment (before packaging); ``reference_hours``
    is ∫ exp(−(Ea/R)(1/T − 1/T_ref)) dt over it for the drug's Ea, in hours. ``kappa`` is the location's
    lamp spectrum factor κ_s and ``light_temperature_factor`` g(T) over the segment (§7).
    """

    start: float
    end: float
    tau: float
    lux_hours: float
    reference_hours: float
    kappa: float = 1.0
    light_temperature_factor: float = 1.0


@dataclass(frozen=True, slots=True)
class PotencyEstimate:
    """Potency as a percentage of label claim, with the exposure behind it."""

    percent: float
    effective_lux_hours: float
    light_exponent: float
    thermal_exponent: float


def potency(
    initial_percent: float,
    k_light_per_lux_hour: float,
    k_ref_per_hour: float,
    segments: list[ExposureSegment],
) -> PotencyEstimate:
    """f = f0 · exp(−(k_L · Σ κ·τ·g·D + k_ref · Σ Θ)) over the vial's segments; effective dose Σ κ·τ·D."""
    effective = sum(s.kappa * s.tau * s.lux_hours for s in segments)
    light = k_light_per_lux_hour * sum(
        s.kappa * s.tau * s.light_temperature_factor * s.lux_hours for s in segments
    )
    thermal = k_ref_per_hour * sum(s.reference_hours for s in segments)
    return PotencyEstimate(
        percent=initial_percent * math.exp(-(light + thermal)),
        effective_lux_hours=effective,
        light_exponent=light,
        thermal_exponent=thermal,
    )


def mean_kinetic_temperature_kelvin(
    equivalent_hours: float, elapsed_hours: float, delta_h_over_r_kelvin: float = MKT_DELTA_H_OVER_R_KELVIN
) -> float:
    """USP mean kinetic temperature from the thermal ledger.

    The ledger holds Θ = ∫ exp(−(ΔH/R)(1/T − 1/T_ref)) dt. The time-mean of exp(−ΔH/(R·T)) over an interval
    is (ΔΘ/Δt)·exp(−ΔH/(R·T_ref)), and MKT = (ΔH/R) / −ln(that mean) (USP, Haynes form; §4).
    """
    if elapsed_hours <= 0 or equivalent_hours <= 0:
        raise ValueError("mean kinetic temperature needs a positive interval with data")
    return delta_h_over_r_kelvin / (
        delta_h_over_r_kelvin / LEDGER_T_REF_KELVIN - math.log(equivalent_hours / elapsed_hours)
    )


def mean_kinetic_temperature_series(
    seconds: FloatArray, kelvin: FloatArray, delta_h_over_r_kelvin: float = MKT_DELTA_H_OVER_R_KELVIN
) -> float:
    """USP MKT of a sampled series, each interval weighted by its duration (trapezoid)."""
    if len(seconds) < 2:
        raise ValueError("mean kinetic temperature needs at least two samples")
    weights = np.exp(-delta_h_over_r_kelvin / kelvin)
    dt = np.diff(seconds)
    mean = float(np.sum(dt * (weights[1:] + weights[:-1]) / 2.0) / np.sum(dt))
    return delta_h_over_r_kelvin / -math.log(mean)
