"""The shipped lamp spectra reproduce the photokinetics reference's §6 table."""

from __future__ import annotations

import numpy as np
import pytest

from hardware import spectra

# §6, per 1000 lx: W/m² at 380-500 nm and 380-780 nm, µmol m⁻² s⁻¹ at 300-560 nm.
SECTION_6 = {
    "daylight-window": (1.62, 4.87, 11.0),
    "indoor-daylight": (1.61, 4.74, 10.5),
    "incandescent": (0.50, 6.40, 4.9),
    "fluorescent-cool-white": (0.89, 2.97, 6.23),
    "fluorescent-warm-white": (0.50, 2.70, 4.01),
    "fluorescent-triband": (0.83, 2.97, 6.98),
    "led-2700k": (0.36, 3.21, 3.92),
    "led-4000k": (0.69, 3.16, 5.94),
    "led-6500k": (1.10, 3.28, 7.91),
}
AVOGADRO = 6.02214076e23


def photon_flux_umol(lamp: str, lux: float, low_nm: float, high_nm: float) -> float:
    t = spectra.table()
    inside = (t.wavelengths_nm >= low_nm) & (t.wavelengths_nm <= high_nm)
    e = spectra.spectral_irradiance(lamp, lux)[inside]
    wl = t.wavelengths_nm[inside]
    photons = np.trapezoid(e * wl * 1e-9 / (spectra.PLANCK_J_S * spectra.LIGHT_M_PER_S), wl)
    return float(photons / AVOGADRO * 1e6)


@pytest.mark.parametrize("lamp", sorted(SECTION_6))
def test_spectra_reproduce_the_section_6_table(lamp: str) -> None:
    """Band irradiances and the 300-560 nm photon flux per 1000 lx agree with §6 to its rounding."""
    blue, visible, photons = SECTION_6[lamp]
    assert spectra.band_irradiance_w_per_m2(lamp, 1000.0, 380, 500) == pytest.approx(blue, abs=0.015)
    assert spectra.band_irradiance_w_per_m2(lamp, 1000.0, 380, 780) == pytest.approx(visible, abs=0.015)
    assert photon_flux_umol(lamp, 1000.0, 300, 560) == pytest.approx(photons, abs=0.06)


def test_spectral_irradiance_is_linear_in_lux() -> None:
    """Twice the lux is twice the irradiance at every wavelength."""
    one = spectra.spectral_irradiance("led-4000k", 100.0)
    assert np.allclose(spectra.spectral_irradiance("led-4000k", 200.0), 2.0 * one)


def test_unknown_lamp_names_the_known_ones() -> None:
    """An unknown lamp type fails naming the ones the table has."""
    with pytest.raises(KeyError, match="known: daylight-window"):
        spectra.source_of("sodium")
