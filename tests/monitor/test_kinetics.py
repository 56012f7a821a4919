"""The degradation model against the reference's test vectors (photokinetics.md §7)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitor.model import kinetics
from monitor.model.profiles import Catalog

K_THIN = 1.456e-3  # §2: 0.728 h⁻¹ at 500 lx, per lux·h


@pytest.mark.parametrize(
    ("hours", "expected_percent"), [(0.5, 69.5), (1.0, 48.3), (2.0, 23.3)], ids=["30min", "1h", "2h"]
)
def test_thin_solution_at_500_lux_matches_reference_vector(
    catalog: Catalog, hours: float, expected_percent: float
) -> None:
    """§7 vector 1: thin solution, κ = τ = F = 1, 500 lx: 69.5 / 48.3 / 23.3 % at 0.5 / 1 / 2 h."""
    k_thin = catalog.drug("mecobalamin").k_thin_per_lux_hour.value
    seg = kinetics.ExposureSegment(0.0, hours * 3600, 1.0, 500.0 * hours, 0.0)
    assert kinetics.potency(100.0, k_thin, 0.0, [seg]).percent == pytest.approx(expected_percent, abs=0.05)


def test_dark_isothermal_at_reference_temperature_follows_k_ref() -> None:
    """§7 vector 3: in the dark at T_ref, f = exp(−k_ref·t)."""
    seg = kinetics.ExposureSegment(0.0, 1000 * 3600, 1.0, 0.0, 1000.0)
    assert kinetics.potency(100.0, K_THIN, 1.9e-6, [seg]).percent == pytest.approx(100 * math.exp(-1.9e-3))


def test_mkt_of_constant_series_is_that_temperature() -> None:
    """§7 vector 4: the mean kinetic temperature of a constant series equals it (ΔH/R = 10,000 K)."""
    t = np.arange(0.0, 86400.0, 60.0)
    kelvin = np.full_like(t, 278.15)
    assert kinetics.mean_kinetic_temperature_series(t, kelvin) == pytest.approx(278.15)


def test_mkt_weights_warm_periods_above_the_arithmetic_mean() -> None:
    """MKT of half a day at 2 °C and half at 8 °C lies above their 5 °C mean (Arrhenius weighting)."""
    t = np.arange(0.0, 86401.0, 60.0)
    kelvin = np.where(t < 43200, 275.15, 281.15)
    mkt = kinetics.mean_kinetic_temperature_series(t, kelvin)
    assert 278.15 < mkt < 281.15


def test_mkt_from_ledger_matches_series() -> None:
    """MKT from the thermal ledger's equivalent hours agrees with the direct series formula."""
    t = np.arange(0.0, 86401.0, 10.0)
    kelvin = 278.15 + 3 * np.sin(t / 3000.0)
    factor = kinetics.arrhenius_factor(
        kelvin, kinetics.MKT_DELTA_H_OVER_R_KELVIN, kinetics.LEDGER_T_REF_KELVIN
    )
    eq_hours = float(np.sum(np.diff(t) * (factor[1:] + factor[:-1]) / 2) / 3600)
    assert kinetics.mean_kinetic_temperature_kelvin(eq_hours, 24.0) == pytest.approx(
        kinetics.mean_kinetic_temperature_series(t, kelvin), abs=1e-6
    )


def test_inner_filter_limits() -> None:
    """F(A) → 1 as A → 0, and → 1/(ln10·A) for large A."""
    assert kinetics.inner_filter_factor(0.0) == 1.0
    assert kinetics.inner_filter_factor(1e-9) == pytest.approx(1.0)
    assert kinetics.inner_filter_factor(50.0) == pytest.approx(1 / (math.log(10) * 50.0), rel=1e-12)


@pytest.mark.parametrize(
    ("form", "best", "low", "high"),
    [
        # Before the polychromatic integral (§7, peak ε̄ 8×10³ and ℓ 1-1.5 cm): 72, ≈500, 16,000-19,000.
        ("dilute-infusion", 64, 30, 130),
        ("methycobal-500ug-ampoule", 185, 70, 450),
        ("rozebalamin-25mg", 3_550, 1_000, 11_000),
    ],
)
def test_lux_hours_to_90_percent_per_form(
    catalog: Catalog, form: str, best: float, low: float, high: float
) -> None:
    """Bare under cool-white fluorescent light, 10 % loss at about 64 lx·h thin, 185 for 0.5 mg/mL and
    3,550 reconstituted: a thick solution absorbs across its whole band, not at its peak ε only."""
    drug = catalog.drug("mecobalamin")
    k = kinetics.photolysis_rate_per_lux_hour(drug, drug.forms[form])
    slow, fast = kinetics.photolysis_rate_range(drug, drug.forms[form])
    assert math.log(1 / 0.9) / k == pytest.approx(best, rel=0.02)
    assert low <= math.log(1 / 0.9) / fast < math.log(1 / 0.9) / slow <= high


def test_concentrated_solution_degrades_slower_per_molecule(catalog: Catalog) -> None:
    """§7 vector 2: ten times the concentration degrades several times slower (inner filter)."""
    drug = catalog.drug("mecobalamin")
    form = drug.forms["methycobal-500ug-ampoule"]
    ten_x = form.model_copy(
        update={
            "concentration_mg_per_ml": form.concentration_mg_per_ml.model_copy(
                update={"value": form.concentration_mg_per_ml.value * 10}
            )
        }
    )
    lamp, bare = catalog.lamp("fluorescent-cool-white"), catalog.packaging["clear-glass"]
    one = catalog.light_rate("mecobalamin", form, lamp, bare)
    ten = catalog.light_rate("mecobalamin", ten_x, lamp, bare)
    assert one is not None
    assert ten is not None
    assert one.best / ten.best > 3
