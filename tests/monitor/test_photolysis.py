"""The polychromatic photolysis integral: its reduction to k_thin, its calibration and its data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitor.model import geometry, kinetics, photolysis, spectra
from monitor.model.constants import Constant
from monitor.model.profiles import Catalog, load_catalog

K_THIN_PER_LUX_HOUR = 0.728 / 500.0  # §2/§7: today's k_thin, the series' first-order k at 500 lx


def exact(value: float) -> Constant:
    return Constant(value=value, provenance="assumed", source="test")


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog()


def test_calibration_conditions_give_the_series_k_per_lux(shipped: Catalog) -> None:
    """The calibration solution in its container under the assumed source gives k_obs/500 lx: today's
    k_thin, to the fit's rounding."""
    light = shipped.lights["mecobalamin"]
    cal = light.calibration
    form = shipped.form("mecobalamin", cal.form)
    rate = photolysis.light_rate(
        light,
        form.concentration_mg_per_ml.value,
        form.path_cm,
        (cal.source_spectrum,),
        shipped.packaging[cal.packaging].filters,
    )
    assert rate.best == pytest.approx(K_THIN_PER_LUX_HOUR, rel=2e-3)
    assert rate.low < rate.best < rate.high


def test_thin_solution_under_the_calibration_lamp_reduces_to_k_thin(shipped: Catalog) -> None:
    """A thin solution in the calibration's container under its lamp: k_thin divided by the calibration
    solution's own inner-filter factor F(A) (the correction the fit lacked), within 1-3 %."""
    light = shipped.lights["mecobalamin"]
    cal = light.calibration
    form = shipped.form("mecobalamin", cal.form)
    filters = shipped.packaging[cal.packaging].filters
    thin = photolysis.light_rate(light, 0.0, form.path_cm, (cal.source_spectrum,), filters)
    own = photolysis.light_rate(
        light, form.concentration_mg_per_ml.value, form.path_cm, (cal.source_spectrum,), filters
    )
    f_cal = own.best / thin.best
    assert 0.97 < f_cal < 0.995
    assert thin.best == pytest.approx(K_THIN_PER_LUX_HOUR / f_cal, rel=2e-3)


def test_one_wavelength_reduces_to_k_thin_times_inner_filter() -> None:
    """With a drug that absorbs at one wavelength only, the integral is k_thin · F(ε·c·ℓ): the §7 model."""
    eps = np.zeros((3, spectra.GRID_NM.size))
    eps[:, 44] = 8000.0  # 520 nm
    q = spectra.source_photon_flux("FL2")[None, :]
    t = np.ones_like(eps)
    path = np.ones(3)
    thin = photolysis.integral(eps, 0.0, path, q, t)[0, 0]
    for molar in (1e-6, 3.72e-4, 8.1e-3):
        a = 8000.0 * molar * 1.0
        got = photolysis.integral(eps, molar, path, q, t)[0, 0]
        assert got / thin == pytest.approx(kinetics.inner_filter_factor(a), rel=1e-9)


def test_quantum_yield_is_the_reference_order_of_magnitude(shipped: Catalog) -> None:
    """Φ fitted to V1-V3 under FL2 lies in §1/§6's 0.04-0.05 (Φ·ε̄ ≈ 280 M⁻¹cm⁻¹ with ε̄ 6-8×10³)."""
    assert 0.03 < shipped.lights["mecobalamin"].quantum_yield() < 0.06


def test_series_fit_range_holds_every_observation(shipped: Catalog) -> None:
    """The k range reaches every V1-V3 point's own first-order k and the 500 mL series' 0.707 h⁻¹."""
    fit = shipped.lights["mecobalamin"].fit
    assert fit.best == pytest.approx(0.728, abs=5e-4)
    assert all(fit.low <= k <= fit.high for k in (*fit.point_k, 0.707))


def test_lamp_photon_flux_matches_the_reference_table() -> None:
    """The shipped spectra give §6's µmol m⁻² s⁻¹ at 300-560 nm per 1000 lx (FL2 6.23, D65 11.0)."""
    inside = spectra.GRID_NM <= 560
    for source, umol in (("FL2", 6.23), ("D65", 11.0), ("LED-B1", 3.92), ("A", 4.9)):
        q = spectra.source_photon_flux(source)
        assert float(np.trapezoid(q[inside], spectra.GRID_NM[inside])) * 1e9 == pytest.approx(umol, rel=0.01)


def test_monitor_lamp_table_is_the_hardware_one() -> None:
    """The model's lamp spectra are the same table the emulated chips use (one source, two packages)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    a = (root / "monitor/data/lamp_spectra.csv").read_text(encoding="utf-8")
    b = (root / "hardware/data/lamp_spectra.csv").read_text(encoding="utf-8")
    assert a == b


def test_amber_glass_bound_is_the_compendial_limit(shipped: Catalog) -> None:
    """The amber filter's most transmissive edge lets 10 % through at 450 nm (USP <660>, Ph. Eur.
    3.2.1 non-parenteral limit over 290-450 nm); its best curve far less."""
    amber = shipped.packaging["amber-glass"]
    assert amber.filters == ("amber-glass",)

    curve = spectra.shipped().filters["amber-glass"]
    assert curve.shift_nm is not None
    worst = curve.transmittance(np.array([290.0, 450.0]), 1.0, curve.shift_nm.lowest)[0]
    assert worst[1] == pytest.approx(0.10, abs=0.005)
    assert worst.max() <= 0.105
    assert curve.transmittance(np.array([450.0]))[0, 0] < 0.02


def test_carton_lets_a_little_light_through(shipped: Catalog) -> None:
    """A carton's τ is small, not zero (§10: paperboard 3-5.75 % at 800 nm)."""
    tau = shipped.packaging["in-carton"].tau
    assert 0.0 < tau.lowest <= tau.value < 0.05


def test_mean_chord_of_a_reconstituted_vial() -> None:
    """2.3 mL in a 2R-6R vial has a mean chord 4V/S of about 0.8-1.0 cm, a 3 mL syringe about 0.8 cm (§10)."""
    c = geometry.catalogue().containers
    assert 0.8 < c["vial-6r"].mean_chord_cm(2.3) < c["vial-2r"].mean_chord_cm(2.3) < 1.0
    assert c["syringe-3ml"].mean_chord_cm(2.0) == pytest.approx(0.77, abs=0.02)
    r = 1.0  # a cylinder as tall as wide: 4V/S = 2rh/(r + h) = r
    v = math.pi * r * r * r
    assert geometry.Container(
        label="x", shape="cylinder", inner_diameter_mm=20.0, capacity_ml=10.0
    ).mean_chord_cm(v) == pytest.approx(r)


def test_path_range_spans_containers_and_illumination() -> None:
    """The path's range spans the candidate containers and the illumination factor around 4V/S."""
    cat = geometry.catalogue()
    path = geometry.path_constant(("vial-6r", "vial-2r"), exact(2.3), cat)
    assert path.value == pytest.approx(cat.containers["vial-6r"].mean_chord_cm(2.3))
    assert path.lowest == pytest.approx(path.value * 0.8)
    assert path.highest == pytest.approx(cat.containers["vial-2r"].mean_chord_cm(2.3) * 1.2)


def test_powder_is_slower_than_its_solution_but_not_negligible(shipped: Catalog) -> None:
    """The dry cake's rate is the solution's × 0.1 (0.01-0.5): conservative, not the solution's."""
    form = shipped.form("mecobalamin", "rozebalamin-25mg")
    lamp = shipped.lamp("fluorescent-cool-white")
    solution = shipped.light_rate("mecobalamin", form, lamp, shipped.packaging["window-open"])
    powder = shipped.light_rate("mecobalamin", form, lamp, shipped.packaging["powder-window-open"])
    assert solution is not None
    assert powder is not None
    assert powder.best == pytest.approx(0.1 * solution.best, rel=1e-9)
    assert powder.high < solution.high
    assert powder.high > 0.2 * solution.best


@pytest.mark.parametrize(
    ("proxy", "numerator_nm", "denominator_nm", "low", "high"),
    [
        ("cyanocobalamin-proxy", 361.0, 278.0, 1.70, 1.90),  # USP Cyanocobalamin identification
        ("cyanocobalamin-proxy", 361.0, 550.0, 3.15, 3.40),  # USP 32 Cyanocobalamin Injection (ref #35)
        ("hydroxocobalamin-proxy", 352.0, 525.0, 2.7, 3.3),  # USP Hydroxocobalamin Injection (ref #15)
    ],
    ids=["cncbl-361-278", "cncbl-361-550", "ohcbl-352-525"],
)
def test_proxy_spectra_meet_their_pharmacopoeial_absorbance_ratios(
    proxy: str, numerator_nm: float, denominator_nm: float, low: float, high: float
) -> None:
    """The labelled proxies' band heights, overlaps included, give the absorbance ratios the
    pharmacopoeias require of those cobalamins (spectral_model.toml's literature check)."""
    spectrum = spectra.shipped().absorption["mecobalamin"].spectra[proxy]
    eps = spectrum.epsilon(np.array([numerator_nm, denominator_nm]))[0]
    assert low <= eps[0] / eps[1] <= high
