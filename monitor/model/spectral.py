"""The lamp spectrum factor κ_s from a spectral sensor's channels, and near-UV dose (pure functions).

κ_s is photolysis per lux relative to a cool-white fluorescent tube, taken as the photon flux at 300-560 nm
per lux (photokinetics.md §6-§7: "assumes the action ∝ photons at 300-560 nm (no MeCbl action spectrum
found)"); §6 gives the reference, FL2, as 6.23 µmol m⁻² s⁻¹ per 1000 lx.

From an AS7341's eight filter counts [D]: each count per gain and millisecond over the channel's width
estimates the spectral irradiance at its peak; a common responsivity scales every channel alike, so it
cancels in the ratio of photons to lux. Between peaks the irradiance is taken as linear; the 300-560 nm
photons are summed from 402 nm (F1's lower half-maximum; the AS7341 has no channel below) to 560 nm, flat
beyond the outer peaks; lux is 683 lm/W times the CIE 1924 V(λ)-weighted sum over the peaks. Over the nine
CIE sources of §6 this estimate lies between 0.85 (daylight: its 300-400 nm photons go unseen) and 1.07
times the §6 κ; the drug profiles' ``measured-spectrum`` lamp carries that spread as the range of κ
(``tests/monitor/test_spectral.py`` recomputes it from the spectra).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

KM_LUMENS_PER_WATT = 683.0  # SI definition of the candela
PLANCK_J_S = 6.62607015e-34
LIGHT_M_PER_S = 2.99792458e8
AVOGADRO_PER_MOL = 6.02214076e23
# §6: FL2 cool-white fluorescent, 6.23 µmol m⁻² s⁻¹ at 300-560 nm per 1000 lx: κ = 1 by definition.
REFERENCE_UMOL_PER_M2_S_PER_LUX = 6.23 / 1000.0
BAND_HIGH_NM = 560.0  # §6: the photon band is 300-560 nm
# ICH Q1B confirmatory exposure: at least 200 W·h/m² of integrated near-UV (§4).
ICH_Q1B_NEAR_UV_WH_PER_M2 = 200.0
# A UV sensor (LTR390) gives near-UV, not a spectrum: what it adds is how much of the light was daylight.
# §6, 300-400 nm per 1000 lx: ID65 indoor daylight 0.36 W/m² (best: daylight through a window), D65 0.54
# (open daylight: the same near-UV from less daylight). The FL and LED tables start at 380 nm, so those
# lamps' near-UV is not represented: taken as none [assumption], every near-UV watt seen is counted as
# daylight, which errs toward a higher κ_s.
DAYLIGHT_NEAR_UV_W_PER_M2_PER_LUX = 0.36 / 1000.0
OPEN_DAYLIGHT_NEAR_UV_W_PER_M2_PER_LUX = 0.54 / 1000.0
# Below this the UV sensor's lux is a few counts: a near-UV to lux ratio of two noise floors says nothing
# of the light, so the dashboard's "κ_s now" keeps the last lit reading's (a dark fridge), as for the AS7341.
MIN_LUX_FOR_DAYLIGHT_SHARE = 1.0
# The drug profiles' lamp entry whose κ range is the estimate's error: set by a spectral sensor, never by
# a location's configuration.
MEASURED_SPECTRUM_LAMP = "measured-spectrum"
# A spectrum whose brightest filter channel has fewer counts than this is mostly count noise (a count or
# two per channel in the dark): it gives no κ_s rather than a ratio of noise.
MIN_FILTER_COUNTS = 50


@dataclass(frozen=True, slots=True)
class SpectralChip:
    """A spectral chip's filter channels: names, peaks and full widths at half maximum (datasheet)."""

    name: str
    channels: tuple[str, ...]
    peaks_nm: tuple[float, ...]
    fwhm_nm: tuple[float, ...]
    v_lambda: tuple[float, ...]  # CIE 1924 photopic V(λ) at each peak
    low_edge_nm: float  # the shortest wavelength the channels see (first peak's lower half-maximum)


# AS7341 datasheet DS000504 v3-00 §6, typical peak and FWHM of F1-F8; V(λ) from the CIE 1924 table.
AS7341 = SpectralChip(
    name="as7341",
    channels=("F1_415", "F2_445", "F3_480", "F4_515", "F5_555", "F6_590", "F7_630", "F8_680"),
    peaks_nm=(415.0, 445.0, 480.0, 515.0, 555.0, 590.0, 630.0, 680.0),
    fwhm_nm=(26.0, 30.0, 36.0, 39.0, 39.0, 40.0, 50.0, 52.0),
    v_lambda=(0.00218, 0.0298, 0.13902, 0.6082, 1.0, 0.757, 0.265, 0.017),
    low_edge_nm=415.0 - 26.0 / 2.0,
)
SPECTRAL_CHIPS: dict[str, SpectralChip] = {AS7341.name: AS7341}


@dataclass(frozen=True, slots=True)
class SpectralCounts:
    """A spectral or UV chip's reading as the engine stores it (counts as read, settings, estimates)."""

    chip: str
    channels: tuple[str, ...]
    counts: tuple[int, ...]
    gain: float
    integration_ms: float
    saturated: bool = False
    near_uv_w_per_m2: float | None = None

    def __post_init__(self) -> None:
        if len(self.channels) != len(self.counts):
            raise ValueError(
                f"{self.chip}: {len(self.counts)} counts for {len(self.channels)} channels {self.channels}"
            )
        if not (self.gain > 0 and self.integration_ms > 0):
            raise ValueError(
                f"{self.chip}: gain {self.gain} and integration {self.integration_ms} ms must be > 0"
            )
        if self.near_uv_w_per_m2 is not None and not self.near_uv_w_per_m2 >= 0:
            raise ValueError(f"{self.chip}: near-UV irradiance {self.near_uv_w_per_m2} W/m² must be ≥ 0")


def _photons_per_joule(nm: FloatArray) -> FloatArray:
    return nm * 1e-9 / (PLANCK_J_S * LIGHT_M_PER_S)


def kappa_from_counts(chip: SpectralChip, counts: FloatArray) -> FloatArray:
    """κ_s for each row of filter counts (rows × channels, already divided by gain and time or not:
    any per-row scale cancels). NaN where the row saw no light."""
    c = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    peaks = np.asarray(chip.peaks_nm)
    e = c / (np.asarray(chip.fwhm_nm))  # spectral irradiance at each peak, to a common scale
    v = np.asarray(chip.v_lambda)
    lux = KM_LUMENS_PER_WATT * np.trapezoid(e * v, peaks, axis=1)
    inside = peaks <= BAND_HIGH_NM
    p_in = peaks[inside]
    q_spec = e[:, inside] * _photons_per_joule(p_in)
    photons = np.trapezoid(q_spec, p_in, axis=1)
    photons += q_spec[:, 0] * (p_in[0] - chip.low_edge_nm) + q_spec[:, -1] * (BAND_HIGH_NM - p_in[-1])
    umol = photons / AVOGADRO_PER_MOL * 1e6
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (umol / lux) / REFERENCE_UMOL_PER_M2_S_PER_LUX
    return np.where((lux > 0) & np.isfinite(kappa), kappa, np.nan)


def kappa_of(reading: SpectralCounts) -> float | None:
    """κ_s of one reading; ``None`` without a spectral chip, in (near) darkness, or when a channel
    saturated."""
    chip = SPECTRAL_CHIPS.get(reading.chip)
    if chip is None or reading.saturated:
        return None
    by_name = dict(zip(reading.channels, reading.counts, strict=False))
    if not all(name in by_name for name in chip.channels):
        return None
    row = np.array([[by_name[name] for name in chip.channels]], dtype=np.float64)
    if row.max() < MIN_FILTER_COUNTS:
        return None
    kappa = float(kappa_from_counts(chip, row)[0])
    return None if np.isnan(kappa) else kappa


def daylight_share(near_uv_w_per_m2_per_lux: float) -> tuple[float, float]:
    """The share of the light (by lux) that was daylight, from the near-UV a UV sensor saw per lux, as
    ``(best, low)``: best if the daylight is ID65 (through a window), low if D65 (open daylight); both
    within [0, 1]. Light being additive, a lux-weighted ratio over a stretch gives its lux-weighted share."""
    ratio = max(near_uv_w_per_m2_per_lux, 0.0)
    best = min(ratio / DAYLIGHT_NEAR_UV_W_PER_M2_PER_LUX, 1.0)
    low = min(ratio / OPEN_DAYLIGHT_NEAR_UV_W_PER_M2_PER_LUX, 1.0)
    return best, low
