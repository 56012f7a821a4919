"""Polychromatic photolysis: the light rate as an integral over wavelength, calibrated on measured data.

Per molecule of a solution of molar concentration c in a path ℓ (cm), under light of photon flux q(λ) per
lux (mol m⁻² s⁻¹ nm⁻¹) behind packaging of transmittance T(λ)::

    k = Φ · ∫ q(λ) · T(λ) · (1 − 10^(−ε(λ)·c·ℓ)) / (10·c·ℓ) dλ        (s⁻¹ per lux; 10·c·ℓ in mol/m²)
      = Φ · ln 10 · ∫ q · T · ε' · F(ε·c·ℓ) dλ,   F(A) = (1 − 10^−A)/(ln 10 · A),  ε' = ε/10 in m²/mol

so each wavelength's photons count as the drug absorbs them there: a thin solution absorbs in proportion
to ε(λ), a thick one all it can across its whole band (photokinetics.md §6-§7, §10). Φ, one quantum yield
per drug and the same at every wavelength (no action spectrum was found, §8), is fitted so that the
integral reproduces the drug's calibration series under its assumed source spectrum; for a thin solution
under the calibration lamp the rate is then the series' first-order k per lux·h, today's k_thin
(``tests/monitor/test_photolysis.py``).

Bounds: every uncertain input is drawn together, as one fixed set of ``DRAWS`` Latin-hypercube rows (row 0
holds every input at its best value): the absorption spectrum (best, or a labelled proxy) with its height
and width ranges, the path, each filter's scale and edge, the powder factor. Φ is refitted in every row for
every plausible source spectrum of the calibration, so what is uncertain about the calibration and about
the case cancels where it should (a thin solution's ε). The series' k and the lux meter of the source enter
as a factor, at the ends of their ranges. The rate's range is the envelope over rows and sources.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from monitor.model.constants import Constant, Provenance
from monitor.model.spectra import (
    GRID_NM,
    GRID_STEP_NM,
    Absorption,
    Calibration,
    Filter,
    FloatArray,
    source_photon_flux,
)

LN10 = math.log(10.0)
SECONDS_PER_HOUR = 3600.0
# ε in M⁻¹cm⁻¹ = 1000 cm³ mol⁻¹ cm⁻¹ = 0.1 m²/mol.
M2_PER_MOL_PER_EPSILON = 0.1
DRAWS = 96  # rows besides the best; a bench (bench/bench_photolysis.py) measures what they cost
SEED = 18  # fixed: the same bounds on every run and every machine


@dataclass(frozen=True, slots=True)
class RateRange:
    """A rate (per lux·h) or a factor, best with the low and high ends of its range."""

    best: float
    low: float
    high: float

    def constant(self, source: str, provenance: Provenance = "derived") -> Constant:
        return Constant(value=self.best, low=self.low, high=self.high, provenance=provenance, source=source)


@dataclass(frozen=True, slots=True)
class SeriesFit:
    """The calibration series' first-order k (h⁻¹) and the range the data allow."""

    best: float
    low: float
    high: float
    standard_error: float
    point_k: tuple[float, ...]


def fit_series(calibration: Calibration) -> SeriesFit:
    """First-order k through the origin, k = Σ t·y / Σ t² with y = −ln(f/100); its range reaches from the
    other series' k (if given) less two standard errors to the largest single point's own k, so every
    observation of both series lies inside it."""
    t = np.array([p.hours for p in calibration.series])
    y = -np.log(np.array([p.percent for p in calibration.series]) / 100.0)
    best = float(np.sum(t * y) / np.sum(t * t))
    residual = y - best * t
    se = float(math.sqrt(float(np.sum(residual**2)) / (t.size - 1) / float(np.sum(t * t))))
    points = tuple(float(v) for v in y / t)
    other = calibration.other_series_k_per_hour
    low = min(best, other.lowest if other is not None else best) - 2.0 * se
    high = max(best + 2.0 * se, *points)
    return SeriesFit(best, low, high, se, points)


def _draw_columns(rows: int, columns: int) -> FloatArray:
    """A Latin hypercube in [0, 1): each column's rows fall one in each of ``rows`` strata."""
    rng = np.random.default_rng(SEED)
    strata = np.stack([rng.permutation(rows) for _ in range(columns)], axis=1)
    out: FloatArray = (strata + rng.uniform(size=(rows, columns))) / rows
    return out


def sample(c: Constant, u: FloatArray) -> FloatArray:
    """The constant at its best value in row 0 and spread uniformly over its range in the others."""
    out = c.lowest + u * (c.highest - c.lowest)
    out[0] = c.value
    return out


@dataclass(frozen=True, slots=True)
class DrugLight:
    """What the integral needs of one drug, drawn once: ε(λ) rows, filter rows, the calibration."""

    epsilon: FloatArray  # rows × wavelengths, M⁻¹cm⁻¹
    filters: dict[str, FloatArray]  # name → rows × wavelengths
    u_path: FloatArray  # a column of the hypercube for the path
    u_powder: FloatArray  # and one for the powder factor
    calibration: Calibration
    fit: SeriesFit
    calibration_j: FloatArray  # rows × plausible sources: the integral for the calibration solution
    best_source: int
    molar_mass_g_per_mol: float

    @property
    def rows(self) -> int:
        return int(self.epsilon.shape[0])

    def k_per_lux_hour(self) -> RateRange:
        """The series' k per lux·h of the source's reading, over the k range and the lux meter's."""
        lux, meter = self.calibration.lux.value, self.calibration.lux_meter
        return RateRange(
            self.fit.best / (lux * meter.value),
            self.fit.low / (lux * meter.highest),
            self.fit.high / (lux * meter.lowest),
        )

    def quantum_yield(self) -> float:
        """Φ at every input's best value (per photon absorbed)."""
        k_per_second_per_lux = self.k_per_lux_hour().best / SECONDS_PER_HOUR
        return k_per_second_per_lux / float(self.calibration_j[0, self.best_source])


def molar(concentration_mg_per_ml: float, molar_mass_g_per_mol: float) -> float:
    return concentration_mg_per_ml / molar_mass_g_per_mol  # mg/mL = g/L


def integral(
    epsilon: FloatArray, molar_conc: float, path_cm: FloatArray, q: FloatArray, t: FloatArray
) -> FloatArray:
    """∫ q·T·(1 − 10^−A)/(10·c·ℓ) dλ per unit Φ (s⁻¹ per lux), rows × spectra.

    ``epsilon``, ``t``: rows × wavelengths; ``path_cm``: rows; ``q``: spectra × wavelengths. Exact at c = 0
    (the thin limit ln 10·∫ q·T·ε' dλ)."""
    x = LN10 * epsilon * molar_conc * path_cm[:, None]
    small = x < 1e-9
    f = np.where(small, 1.0 - x / 2.0, -np.expm1(-x) / np.where(small, 1.0, x))
    weight = LN10 * M2_PER_MOL_PER_EPSILON * epsilon * f * t  # rows × wavelengths
    out: FloatArray = (weight @ q.T) * GRID_STEP_NM
    return out


def transmittance(light: DrugLight, filters: tuple[str, ...]) -> FloatArray:
    t = np.ones_like(light.epsilon)
    for name in filters:
        try:
            t = t * light.filters[name]
        except KeyError:
            raise ValueError(f"unknown filter {name!r}; known: {', '.join(sorted(light.filters))}") from None
    return t


def photon_flux(spectra: tuple[str, ...]) -> FloatArray:
    return np.stack([source_photon_flux(s) for s in spectra])


def paths(light: DrugLight, path_cm: Constant) -> FloatArray:
    return sample(path_cm, light.u_path)


def build(
    absorption: Absorption,
    calibration: Calibration,
    filters: dict[str, Filter],
    molar_mass_g_per_mol: float,
    calibration_conc_mg_per_ml: float,
    calibration_path_cm: Constant,
    calibration_filters: tuple[str, ...],
) -> DrugLight:
    """Draw the drug's inputs and fit Φ to its calibration series in every row, for every source."""
    names = sorted(filters)
    u = _draw_columns(DRAWS + 1, 5 + 2 * len(names))
    spectra = absorption.ordered()
    which = np.minimum((u[:, 0] * len(spectra)).astype(int), len(spectra) - 1)
    which[0] = 0
    scale = sample(absorption.epsilon_scale, u[:, 1])
    width = sample(absorption.width_scale, u[:, 2])
    eps = np.empty((DRAWS + 1, GRID_NM.size))
    for i, spectrum in enumerate(spectra):
        rows = which == i
        if rows.any():
            eps[rows] = spectrum.epsilon(GRID_NM, width[rows]) * scale[rows, None]
    drawn: dict[str, FloatArray] = {}
    for j, name in enumerate(names):
        f = filters[name]
        s = sample(f.scale, u[:, 5 + 2 * j])
        d = sample(f.shift_nm, u[:, 6 + 2 * j]) if f.shift_nm is not None else np.zeros(DRAWS + 1)
        drawn[name] = f.transmittance(GRID_NM, s, d)
    light = DrugLight(
        epsilon=eps,
        filters=drawn,
        u_path=u[:, 3],
        u_powder=u[:, 4],
        calibration=calibration,
        fit=fit_series(calibration),
        calibration_j=np.zeros((1, 1)),
        best_source=calibration.plausible_source_spectra.index(calibration.source_spectrum),
        molar_mass_g_per_mol=molar_mass_g_per_mol,
    )
    cal_j = integral(
        eps,
        molar(calibration_conc_mg_per_ml, molar_mass_g_per_mol),
        paths(light, calibration_path_cm),
        photon_flux(calibration.plausible_source_spectra),
        transmittance(light, calibration_filters),
    )
    return replace(light, calibration_j=cal_j)


def relative_rate(
    light: DrugLight,
    concentration_mg_per_ml: float,
    path_cm: Constant,
    spectra: tuple[str, ...],
    filters: tuple[str, ...],
) -> FloatArray:
    """The integral for a case over the calibration's, rows × plausible sources × the case's spectra: the
    case's rate in units of the calibration series' k per lux."""
    return relative_rate_of_flux(light, concentration_mg_per_ml, path_cm, photon_flux(spectra), filters)


def relative_rate_of_flux(
    light: DrugLight,
    concentration_mg_per_ml: float,
    path_cm: Constant,
    flux: FloatArray,
    filters: tuple[str, ...],
) -> FloatArray:
    """As :func:`relative_rate`, for spectra given as photon flux per lux on the grid (rows ×
    wavelengths): a lamp's, or one a sensor measured."""
    j = integral(
        light.epsilon,
        molar(concentration_mg_per_ml, light.molar_mass_g_per_mol),
        paths(light, path_cm),
        flux,
        transmittance(light, filters),
    )
    out: FloatArray = j[:, None, :] / light.calibration_j[:, :, None]
    return out


def light_rate(
    light: DrugLight,
    concentration_mg_per_ml: float,
    path_cm: Constant,
    spectra: tuple[str, ...],
    filters: tuple[str, ...] = (),
    powder_factor: Constant | None = None,
) -> RateRange:
    """k per lux·h of a form behind ``filters`` under a lamp that may be any of ``spectra`` (the first is
    its usual one): best at every input's best value, low and high over every draw and plausible source."""
    return light_rate_of_flux(
        light, concentration_mg_per_ml, path_cm, photon_flux(spectra), filters, powder_factor
    )


def light_rate_of_flux(
    light: DrugLight,
    concentration_mg_per_ml: float,
    path_cm: Constant,
    flux: FloatArray,
    filters: tuple[str, ...] = (),
    powder_factor: Constant | None = None,
) -> RateRange:
    """As :func:`light_rate`, under light given as photon flux per lux on the grid (rows × wavelengths,
    the first row the usual one): a lamp's spectra, or a spectrum a sensor measured."""
    ratio = relative_rate_of_flux(light, concentration_mg_per_ml, path_cm, flux, filters)
    k = light.k_per_lux_hour()
    factors = np.ones(light.rows) if powder_factor is None else sample(powder_factor, light.u_powder)
    scaled = ratio * factors[:, None, None]
    return RateRange(
        k.best * float(scaled[0, light.best_source, 0]),
        k.low * float(scaled.min()),
        k.high * float(scaled.max()),
    )


@dataclass(frozen=True, slots=True)
class RateArrays:
    """Rates per lux·h, one entry per spectrum: best, and the low and high ends of each one's range."""

    best: FloatArray
    low: FloatArray
    high: FloatArray


@dataclass(frozen=True, slots=True)
class LinearRates:
    """k per lux·h of one form behind one packaging as a linear map of a spectrum's coordinates.

    The integral is linear in the photon flux, draw by draw: for spectra that are combinations of a few
    basis spectra (a spectral chip's estimate is one of its peak irradiances, :mod:`monitor.model.spectral`)
    the integral of each basis spectrum, taken once, gives every combination's rate as a dot product, the
    same as :func:`light_rate_of_flux` of the combined spectrum."""

    relative: FloatArray  # rows × plausible sources × basis spectra: the case over the calibration, × powder
    k: RateRange  # the calibration series' k per lux·h
    best_source: int
    factor: Constant | None  # a factor on the result with its range (a measured spectrum's estimate error)

    def rates(self, coordinates: FloatArray) -> RateArrays:
        """The rates of spectra given by their coordinates on the basis (spectra × basis)."""
        r = self.relative @ np.atleast_2d(coordinates).T  # rows × sources × spectra
        f = (
            (1.0, 1.0, 1.0)
            if self.factor is None
            else (self.factor.value, self.factor.lowest, self.factor.highest)
        )
        return RateArrays(
            self.k.best * f[0] * r[0, self.best_source],
            self.k.low * f[1] * r.min(axis=(0, 1)),
            self.k.high * f[2] * r.max(axis=(0, 1)),
        )


def linear_rates(
    light: DrugLight,
    concentration_mg_per_ml: float,
    path_cm: Constant,
    basis_flux: FloatArray,
    filters: tuple[str, ...] = (),
    powder_factor: Constant | None = None,
    factor: Constant | None = None,
) -> LinearRates:
    """The integral of each basis spectrum (photon flux on the grid, basis × wavelengths), for
    :meth:`LinearRates.rates`."""
    ratio = relative_rate_of_flux(light, concentration_mg_per_ml, path_cm, basis_flux, filters)
    factors = np.ones(light.rows) if powder_factor is None else sample(powder_factor, light.u_powder)
    return LinearRates(ratio * factors[:, None, None], light.k_per_lux_hour(), light.best_source, factor)
