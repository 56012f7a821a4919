"""Hours until a vial reaches a potency threshold at present conditions, and the label's deadline.

The rate now is the thermal rate at the newest temperature plus the light rate at the newest lux, with
the packaging's τ_pkg and the light's κ_s now (measured where a spectral or UV sensor measured it). The
low bound's time takes every range at the end that loses potency faster, and a saturated reading at up
to the worst case. The label's limit after reconstitution runs from the reconstitution whatever the data
say; the time to act on is the earlier of the two (:mod:`monitor.model.verdict` decides from it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.model import bounds, kinetics, measured_kappa
from monitor.model.bounds import Interval
from monitor.model.inputs import LocationInputs
from monitor.model.profiles import Catalog, DrugModel, FormModel

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class TimeToThreshold:
    """Hours until the potency reaches ``threshold_percent`` at current conditions (light, temperature).

    ``hours`` is the one to act on: the earlier of the low bound's model time and the label's limit after
    reconstitution; ``limited_by`` says which. Infinity when nothing degrades the vial now.
    """

    threshold_percent: float
    hours: float
    hours_best: float
    hours_low: float
    label_deadline_ts: float | None
    limited_by: str  # "model" | "label"


@dataclass(frozen=True, slots=True)
class MeasuredKappa:
    ts: float  # the reading it was measured at
    kappa: Interval


@dataclass(frozen=True, slots=True)
class LossRates:
    """The potency's first-order loss rate now: at the profile's values, and at the low bound's corners."""

    best_per_hour: float
    low_bound_per_hour: float


def latest_measured_kappa(catalog: Catalog, location: LocationInputs) -> MeasuredKappa | None:
    """When and what κ_s the location's spectral sensor (AS7341) last measured, or where it has none, its
    UV sensor's daylight mix at the last lit reading; ``None`` if neither ever has."""
    if location.spectral is not None:
        newest = location.spectral.latest_kappa
        return (
            None
            if newest is None
            else MeasuredKappa(newest.ts, measured_kappa.measured(catalog, newest.kappa))
        )
    if location.uv is not None and location.uv.latest_lit is not None:
        lit = location.uv.latest_lit
        lamp = measured_kappa.lamp_kappa(catalog, location.lamp)
        mix, _ = measured_kappa.daylight_mix(catalog, lamp, lit.near_uv_w_per_m2 / lit.lux)
        return MeasuredKappa(lit.ts, mix)
    return None


def current_kappa(catalog: Catalog, location: LocationInputs) -> Interval:
    """κ_s of the light now: from the spectral (or else UV) sensor's newest reading that gave one (in a
    dark fridge, the last light it saw), else the configured lamp's."""
    measured = latest_measured_kappa(catalog, location)
    return measured_kappa.lamp_kappa(catalog, location.lamp) if measured is None else measured.kappa


def present_rates(
    catalog: Catalog,
    drug: DrugModel,
    k_light: Interval,
    location: LocationInputs | None,
    packaging: str | None,
    joint: Interval | None = None,
) -> LossRates:
    """The loss rate per hour now, best and at the low bound's corners, where the vial is: the light's
    rate is ``joint`` (k per lux·h of the form behind the packaging under the light now, the lamp's or
    the one a sensor measured: :mod:`monitor.model.place_rates`), else k_light·κ_s·τ_pkg."""
    rate_best = rate_low = drug.k_ref_per_hour.value  # at 25 °C until a temperature says otherwise
    if location is not None and packaging is not None:
        light, temp = location.light, location.temperature
        measured = latest_measured_kappa(catalog, location)
        kappa = measured_kappa.lamp_kappa(catalog, location.lamp) if measured is None else measured.kappa
        tau = catalog.packaging_state(packaging).tau
        light_rate = (
            joint
            if joint is not None
            else Interval(
                k_light.best * kappa.best * tau.value,
                k_light.low * kappa.low * tau.lowest,
                k_light.high * kappa.high * tau.highest,
            )
        )
        lux_now = None if light is None else light.latest
        celsius_now = None if temp is None else temp.latest_celsius
        g = 1.0
        if celsius_now is not None:
            kelvin = celsius_now + kinetics.CELSIUS_TO_KELVIN
            g = kinetics.light_temperature_factor(drug, kelvin)
            thermal = float(
                kinetics.arrhenius_factor(
                    np.array([kelvin]), kinetics.ea_over_r(drug), drug.t_ref_kelvin.value
                )[0]
            )
            rate_best = rate_low = drug.k_ref_per_hour.value * thermal
        if lux_now is not None and light is not None:
            worst = location.worst_case_lux
            lux_high = lux_now.lux + light.calibration_uncertainty_lux
            if lux_now.saturated:  # only a lower bound
                lux_high = max(lux_high, worst) if worst is not None else math.inf
            rate_best += light_rate.best * g * lux_now.lux
            rate_low += light_rate.high * g * lux_high
    return LossRates(rate_best, rate_low)


def time_to_threshold(
    form: FormModel,
    percent: Interval,
    rates: LossRates,
    reconstituted_ts: float | None,
    now: float,
    threshold_percent: float,
) -> TimeToThreshold:
    """The vial's time left at ``now`` from its potency ``percent`` and its loss ``rates`` now."""
    hours_best = bounds.hours_to_threshold(percent.best, threshold_percent, rates.best_per_hour)
    hours_low = bounds.hours_to_threshold(percent.low, threshold_percent, rates.low_bound_per_hour)
    deadline = None
    limit = form.label_use_within_minutes
    if reconstituted_ts is not None and limit is not None:
        deadline = reconstituted_ts + limit.value * 60.0
    hours, limited_by = hours_low, "model"
    if deadline is not None and (deadline - now) / SECONDS_PER_HOUR < hours:
        hours, limited_by = max((deadline - now) / SECONDS_PER_HOUR, 0.0), "label"
    return TimeToThreshold(threshold_percent, hours, hours_best, hours_low, deadline, limited_by)
