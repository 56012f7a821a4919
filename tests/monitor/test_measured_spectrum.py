"""A spectrum measured by an AS7341 goes into the photolysis integral as a lamp's spectrum does."""

from __future__ import annotations

import numpy as np
import pytest

from hardware import spectra
from hardware.chips import as7341 as chip
from monitor.model.profiles import Catalog
from monitor.model.spectra import source_photon_flux
from monitor.model.spectral import AS7341, kappa_from_counts, photon_flux_from_counts

DRUG = "mecobalamin"
# Each form in a state whose transmittance reshapes the light differently: a thin solution in its bag, the
# ampoule and the reconstituted vial behind amber glass, the reconstituted vial behind clear glass.
CASES = [
    ("dilute-infusion", "infusion-container"),
    ("methycobal-500ug-ampoule", "amber-glass"),
    ("rozebalamin-25mg", "light-protected-vial"),
    ("rozebalamin-25mg", "window-open"),
]
LAMPS = ["fluorescent-cool-white", "fluorescent-warm-white", "led-2700k", "led-6500k", "incandescent"]


def counts_under(lamp: str, lux: float = 500.0) -> np.ndarray:
    """Noise-free AS7341 filter signals for ``lux`` of ``lamp`` light (the emulator's physics)."""
    signal = chip.photodiode_signals(lux, lamp)
    return np.array([[signal[ch.name[:2]] for ch in chip.FILTERS]])


@pytest.mark.parametrize(("form", "packaging"), CASES)
@pytest.mark.parametrize("lamp", ["fluorescent-cool-white", "led-2700k", "incandescent"])
def test_a_lamps_own_spectrum_gives_the_lamps_rate(
    catalog: Catalog, lamp: str, form: str, packaging: str
) -> None:
    """Fed the lamp's own photon flux, the measured-spectrum rate is the lamp's joint rate exactly, its
    range widened only by the channel estimate's error (the measured-spectrum factor)."""
    f, state = catalog.form(DRUG, form), catalog.packaging_state(packaging)
    lamp_rate = catalog.light_rate(DRUG, f, catalog.lamp(lamp), state)
    measured = catalog.light_rate_of_spectrum(DRUG, f, source_photon_flux(spectra.source_of(lamp)), state)
    assert lamp_rate is not None
    assert measured is not None
    factor = catalog.lamp("measured-spectrum").kappa
    assert measured.best == pytest.approx(lamp_rate.best * factor.value, rel=1e-12)
    assert measured.low == pytest.approx(lamp_rate.low * factor.lowest, rel=1e-12)
    assert measured.high == pytest.approx(lamp_rate.high * factor.highest, rel=1e-12)


@pytest.mark.parametrize(("form", "packaging"), CASES)
@pytest.mark.parametrize("lamp", LAMPS)
def test_channel_counts_of_a_lamp_reduce_to_the_lamps_rate(
    catalog: Catalog, lamp: str, form: str, packaging: str
) -> None:
    """From the eight channels' counts under a lamp, the rate through the drug's absorption and the
    container's transmittance is the lamp's own within the channel estimate's error, and its band holds
    the rate under the lamp's true spectrum."""
    f, state = catalog.form(DRUG, form), catalog.packaging_state(packaging)
    flux = photon_flux_from_counts(AS7341, counts_under(lamp))
    measured = catalog.light_rate_of_spectrum(DRUG, f, flux, state)
    own = catalog.light_rate_of_spectrum(DRUG, f, source_photon_flux(spectra.source_of(lamp)), state)
    assert measured is not None
    assert own is not None
    factor = catalog.lamp("measured-spectrum").kappa
    assert factor.lowest <= own.best / measured.best <= factor.highest
    assert measured.low <= own.best <= measured.high


def test_the_measured_spectrum_is_scaled_per_lux() -> None:
    """Ten times the light, or a responsivity off by 3x on every channel, gives the same flux per lux."""
    one = photon_flux_from_counts(AS7341, counts_under("led-4000k", 100.0))
    assert photon_flux_from_counts(AS7341, counts_under("led-4000k", 1000.0)) == pytest.approx(one)
    assert photon_flux_from_counts(AS7341, 3.0 * counts_under("led-4000k", 100.0)) == pytest.approx(one)
    assert np.isnan(photon_flux_from_counts(AS7341, np.zeros((1, 8)))).all()


def test_a_warm_led_is_weighted_by_what_mecobalamin_absorbs(catalog: Catalog) -> None:
    """Under a 2700 K LED the measured κ_s follows the integral (0.77 under CIE LED-B1, where MeCbl's 520 nm
    band absorbs), not §6's flat photon count at 300-560 nm (0.63)."""
    kappa = float(kappa_from_counts(AS7341, counts_under("led-2700k"))[0])
    assert kappa == pytest.approx(catalog.lamp("led-2700k").kappa.value, rel=0.06)
    assert kappa > 0.63 * 1.2
