"""The lamp spectrum factor κ_s and the light's spectrum from a spectral sensor's channels, and near-UV dose.

A spectral sensor (AS7341) measures the light's spectrum in eight filter channels. From them [D]: each
count per gain and millisecond over the channel's width estimates the spectral irradiance at its peak; a
common responsivity scales every channel alike, so it cancels once the spectrum is taken per lux. Between
peaks the irradiance is taken as linear, flat from the last peak to the end of the model's grid (700 nm)
and from the first peak down to F1's lower half-maximum (402 nm), none below (the AS7341 has no channel
there); lux is 683 lm/W times the CIE 1924 V(λ)-weighted integral of that spectrum. The result is a photon
flux per lux on the photolysis integral's grid (:func:`photon_flux_from_counts`), so a measured spectrum
goes into the same integral as a lamp's (:meth:`monitor.model.profiles.Catalog.light_rate_of_spectrum`),
through the drug's absorption and the container's transmittance. The estimate is linear in the eight peak
irradiances (:func:`reconstruction`), so a sum of readings' (a ledger's difference, migration 21) is the
estimate of their summed light, and a form's rate behind a container is a dot product with them
(:meth:`monitor.model.profiles.Catalog.spectrum_rates`). Its error as a factor on the rate is the drug
profiles' ``measured-spectrum`` range, 0.95-1.30 over the §6 sources (0.949-1.052 for lamps without
near-UV, for every form and packaging state: ``tests/monitor/test_measured_rates.py``).

κ_s of a reading is that spectrum's thin-solution κ (:func:`monitor.model.spectra.thin_kappa`): the photons
the reference drug absorbs per lux, over those it absorbs from cool-white fluorescent light (FL2), as every
configured lamp's κ_s. Over the nine CIE sources of §6 the estimate from the channels differs from the
integral under the source's own spectrum by the range the drug profiles' ``measured-spectrum`` factor
carries (``tests/monitor/test_measured_light.py`` recomputes it from the spectra).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from monitor.model.spectra import (
    AVOGADRO_PER_MOL,
    GRID_NM,
    GRID_STEP_NM,
    KM_LUMENS_PER_WATT,
    LIGHT_M_PER_S,
    PLANCK_J_S,
    lamp_table,
    thin_kappa,
)

FloatArray = NDArray[np.float64]

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


@dataclass(frozen=True, slots=True)
class Reconstruction:
    """A chip's spectrum estimate as linear maps of its peak irradiances (one per filter channel).

    ``photons``: grid × channels, the photon flux (mol m⁻² s⁻¹ nm⁻¹) on ``GRID_NM`` of a spectrum that is
    1 W m⁻² nm⁻¹ at one channel's peak and none at the others, joined linearly (the estimate's shape);
    ``lux``: channels, the lux of each such spectrum. The estimate being linear in the peak irradiances,
    a sum of readings' peak irradiances (a ledger's difference) is the estimate of the summed light.
    """

    photons: FloatArray
    lux: FloatArray


@cache
def reconstruction(chip: SpectralChip) -> Reconstruction:
    peaks = np.asarray(chip.peaks_nm)
    knots = np.concatenate(([chip.low_edge_nm], peaks, [max(float(GRID_NM[-1]), float(peaks[-1]))]))
    unit = np.eye(len(peaks))
    values = np.concatenate((unit[:, :1], unit, unit[:, -1:]), axis=1)  # channels × knots
    watts = np.stack([np.interp(GRID_NM, knots, row, left=0.0, right=0.0) for row in values], axis=1)
    table = lamp_table()
    v = np.interp(GRID_NM, table.nm, table.v_lambda)
    lux = KM_LUMENS_PER_WATT * (v @ watts) * GRID_STEP_NM
    photons = watts * ((GRID_NM * 1e-9) / (PLANCK_J_S * LIGHT_M_PER_S) / AVOGADRO_PER_MOL)[:, None]
    return Reconstruction(photons, lux)


def peaks_per_lux(chip: SpectralChip, counts: FloatArray) -> FloatArray:
    """The spectral irradiance estimated at each channel's peak (W m⁻² nm⁻¹ per lx), one row per row of
    filter counts (rows × channels, divided by gain and time or not: any per-row scale cancels): each
    count over the channel's width, scaled so that the estimate gives 1 lx. NaN rows where it gives none."""
    c = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    e = c / np.asarray(chip.fwhm_nm)  # spectral irradiance at each peak, to a common scale
    lux = e @ reconstruction(chip).lux
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where((lux > 0)[:, None], e / lux[:, None], np.nan)
    return out


def photon_flux_of_peaks(chip: SpectralChip, peaks: FloatArray) -> FloatArray:
    """Photon flux on ``GRID_NM`` of the spectrum estimated from peak irradiances (rows × channels): per
    lux for :func:`peaks_per_lux`'s rows."""
    out: FloatArray = np.atleast_2d(peaks) @ reconstruction(chip).photons.T
    return out


def photon_flux_from_counts(chip: SpectralChip, counts: FloatArray) -> FloatArray:
    """Photon flux per lux on ``GRID_NM`` (mol m⁻² s⁻¹ nm⁻¹ per lx), one row per row of filter counts
    (rows × channels, divided by gain and time or not: any per-row scale cancels). NaN rows where the counts
    give no lux."""
    return photon_flux_of_peaks(chip, peaks_per_lux(chip, counts))


def kappa_from_counts(chip: SpectralChip, counts: FloatArray) -> FloatArray:
    """κ_s for each row of filter counts: the measured spectrum's thin-solution κ. NaN where the row saw
    no light."""
    kappa = thin_kappa(photon_flux_from_counts(chip, counts))
    return np.where(np.isfinite(kappa), kappa, np.nan)


def spectrum_of(reading: SpectralCounts) -> FloatArray | None:
    """The reading's peak irradiances per lux (:func:`peaks_per_lux`, one row); ``None`` without a
    spectral chip, in (near) darkness, or when a channel saturated."""
    chip = SPECTRAL_CHIPS.get(reading.chip)
    if chip is None or reading.saturated:
        return None
    by_name = dict(zip(reading.channels, reading.counts, strict=False))
    if not all(name in by_name for name in chip.channels):
        return None
    row = np.array([[by_name[name] for name in chip.channels]], dtype=np.float64)
    if row.max() < MIN_FILTER_COUNTS:
        return None
    peaks = peaks_per_lux(chip, row)[0]
    return None if np.isnan(peaks).any() else peaks


def kappa_of(reading: SpectralCounts) -> float | None:
    """κ_s of one reading; ``None`` without a spectral chip, in (near) darkness, or when a channel
    saturated."""
    peaks = spectrum_of(reading)
    if peaks is None:
        return None
    kappa = float(thin_kappa(photon_flux_of_peaks(SPECTRAL_CHIPS[reading.chip], peaks))[0])
    return None if np.isnan(kappa) else kappa


def daylight_share(near_uv_w_per_m2_per_lux: float) -> tuple[float, float]:
    """The share of the light (by lux) that was daylight, from the near-UV a UV sensor saw per lux, as
    ``(best, low)``: best if the daylight is ID65 (through a window), low if D65 (open daylight); both
    within [0, 1]. Light being additive, a lux-weighted ratio over a stretch gives its lux-weighted share."""
    ratio = max(near_uv_w_per_m2_per_lux, 0.0)
    best = min(ratio / DAYLIGHT_NEAR_UV_W_PER_M2_PER_LUX, 1.0)
    low = min(ratio / OPEN_DAYLIGHT_NEAR_UV_W_PER_M2_PER_LUX, 1.0)
    return best, low
