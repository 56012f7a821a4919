"""Spectral data of the photolysis integral: lamp photon flux per lux, absorption spectra and filters.

Everything is evaluated on one wavelength grid, 300-700 nm at 5 nm (``GRID_NM``), the range over which the
drug absorbs and room light carries photons (photokinetics.md §6, §10). Lux is computed over the whole
table (380-780 nm carries V(λ)). The data and their sources are in ``monitor/data/spectral_model.toml`` and
``monitor/data/lamp_spectra.csv``; this module only gives them shape and evaluates them.
"""

from __future__ import annotations

import csv
import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.errors import ConfigError
from monitor.model.constants import Constant

FloatArray = NDArray[np.float64]

GRID_NM: FloatArray = np.arange(300.0, 701.0, 5.0)
GRID_STEP_NM = 5.0
KM_LUMENS_PER_WATT = 683.0  # SI definition of the candela
PLANCK_J_S = 6.62607015e-34
LIGHT_M_PER_S = 2.99792458e8
AVOGADRO_PER_MOL = 6.02214076e23
FOUR_LN2 = 4.0 * math.log(2.0)
# The lamp κ_s = 1 refers to (§6): cool-white fluorescent, CIE FL2.
REFERENCE_SPECTRUM = "FL2"


def _frozen() -> ConfigDict:
    return ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Band(BaseModel):
    model_config = _frozen()
    center_nm: float
    epsilon_per_molar_cm: float = Field(ge=0)
    fwhm_nm: float = Field(gt=0)


class AbsorptionSpectrum(BaseModel):
    """A molar absorption spectrum as a sum of Gaussian bands (maxima, heights, widths)."""

    model_config = _frozen()
    label: str
    provenance: str
    source: str = Field(min_length=1)
    bands: tuple[Band, ...] = Field(min_length=1)

    def epsilon(self, nm: FloatArray, width_scale: FloatArray | float = 1.0) -> FloatArray:
        """ε(λ) in M⁻¹cm⁻¹ at ``nm``; with an array of width scales, one row per scale."""
        w = np.atleast_1d(np.asarray(width_scale, dtype=np.float64))[:, None]
        out = np.zeros((w.shape[0], nm.size))
        for b in self.bands:
            out += b.epsilon_per_molar_cm * np.exp(-FOUR_LN2 * ((nm - b.center_nm) / (b.fwhm_nm * w)) ** 2)
        return out


class Absorption(BaseModel):
    """A drug's absorption: its best spectrum, labelled proxies, and the ranges applied to any of them."""

    model_config = _frozen()
    best: str
    epsilon_scale: Constant
    width_scale: Constant
    spectra: dict[str, AbsorptionSpectrum] = Field(min_length=1)

    @model_validator(mode="after")
    def _best_is_known(self) -> Absorption:
        if self.best not in self.spectra:
            raise ValueError(f"best spectrum {self.best!r} is not among {sorted(self.spectra)}")
        return self

    def ordered(self) -> list[AbsorptionSpectrum]:
        """The best spectrum first, then the proxies."""
        return [self.spectra[self.best], *(s for k, s in self.spectra.items() if k != self.best)]


class Filter(BaseModel):
    """A spectral transmittance as knots joined by straight lines, with its range (scale and edge shift)."""

    model_config = _frozen()
    label: str
    provenance: str
    source: str = Field(min_length=1)
    knots_nm: tuple[float, ...] = Field(min_length=2)
    tau: tuple[float, ...] = Field(min_length=2)
    scale: Constant
    shift_nm: Constant | None = None

    @model_validator(mode="after")
    def _knots(self) -> Filter:
        if len(self.knots_nm) != len(self.tau):
            raise ValueError(f"{len(self.knots_nm)} knots for {len(self.tau)} transmittances")
        if any(b <= a for a, b in zip(self.knots_nm, self.knots_nm[1:], strict=False)):
            raise ValueError("knots_nm must increase")
        if not all(0.0 <= t <= 1.0 for t in self.tau):
            raise ValueError("transmittances must lie within 0-1")
        return self

    def transmittance(
        self, nm: FloatArray, scale: FloatArray | float = 1.0, shift_nm: FloatArray | float = 0.0
    ) -> FloatArray:
        """τ(λ) at ``nm``, one row per (scale, shift) pair: the curve moved by ``shift_nm`` and scaled."""
        s = np.atleast_1d(np.asarray(scale, dtype=np.float64))[:, None]
        d = np.atleast_1d(np.asarray(shift_nm, dtype=np.float64))[:, None]
        x = np.broadcast_to(nm[None, :] - d, (max(s.shape[0], d.shape[0]), nm.size))
        base = np.interp(x.ravel(), self.knots_nm, self.tau).reshape(x.shape)
        out: FloatArray = np.clip(base * s, 0.0, 1.0)
        return out


class SeriesPoint(BaseModel):
    model_config = _frozen()
    hours: float = Field(gt=0)
    percent: float = Field(gt=0, le=100)


class Calibration(BaseModel):
    """The series a drug's quantum yield is fitted to, and what is uncertain about its conditions."""

    model_config = _frozen()
    form: str
    packaging: str
    lux: Constant
    source: str
    series: tuple[SeriesPoint, ...] = Field(min_length=2)
    other_series_k_per_hour: Constant | None = None
    source_spectrum: str
    plausible_source_spectra: tuple[str, ...] = Field(min_length=1)
    source_spectrum_note: str
    lux_meter: Constant
    quantum_yield_note: str

    @model_validator(mode="after")
    def _best_is_plausible(self) -> Calibration:
        if self.source_spectrum not in self.plausible_source_spectra:
            raise ValueError(f"source_spectrum {self.source_spectrum!r} must be among the plausible ones")
        return self


class SpectralFile(BaseModel):
    model_config = _frozen()
    # The drug whose thin solution weights a lamp's or a measured spectrum's photons into κ_s's best value.
    reference_drug: str
    absorption: dict[str, Absorption] = Field(default_factory=dict)
    calibration: dict[str, Calibration] = Field(default_factory=dict)
    filters: dict[str, Filter] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _reference_has_a_spectrum(self) -> SpectralFile:
        if self.reference_drug not in self.absorption:
            raise ValueError(f"reference_drug {self.reference_drug!r} has no [absorption] spectrum")
        return self


@cache
def shipped() -> SpectralFile:
    """The shipped spectral model (monitor/data/spectral_model.toml)."""
    text = resources.files("monitor").joinpath("data/spectral_model.toml").read_text(encoding="utf-8")
    try:
        return SpectralFile.model_validate(tomllib.loads(text))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(
            f"spectral_model.toml (shipped): {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        ) from exc


@dataclass(frozen=True, slots=True)
class LampTable:
    """Relative spectral power of the CIE sources at 5 nm, 300-780 nm, and V(λ)."""

    nm: FloatArray
    v_lambda: FloatArray
    sources: dict[str, FloatArray]


@cache
def lamp_table() -> LampTable:
    text = resources.files("monitor").joinpath("data/lamp_spectra.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    names = [k for k in rows[0] if k not in ("nm", "V")]

    def col(k: str) -> FloatArray:
        return np.array([float(r[k]) for r in rows], dtype=np.float64)

    return LampTable(col("nm"), col("V"), {n: col(n) for n in names})


def photon_flux_per_lux(
    relative_w_per_nm: FloatArray, table_nm: FloatArray, v_lambda: FloatArray
) -> FloatArray:
    """A spectrum (relative W per nm on ``table_nm``) as photon flux on ``GRID_NM``, in mol m⁻² s⁻¹ nm⁻¹
    per lux: scaled so it gives 1 lx, then W → photons (λ/hc) → mol."""
    lux = KM_LUMENS_PER_WATT * float(np.trapezoid(relative_w_per_nm * v_lambda, table_nm))
    if lux <= 0:
        raise ValueError("the spectrum gives no lux")
    watts = np.interp(GRID_NM, table_nm, relative_w_per_nm) / lux
    out: FloatArray = watts * (GRID_NM * 1e-9) / (PLANCK_J_S * LIGHT_M_PER_S) / AVOGADRO_PER_MOL
    return out


@cache
def source_photon_flux(source: str) -> FloatArray:
    """Photon flux per lux on ``GRID_NM`` of a CIE source in the shipped table."""
    t = lamp_table()
    try:
        relative = t.sources[source]
    except KeyError:
        raise KeyError(f"unknown spectrum {source!r}; known: {', '.join(sorted(t.sources))}") from None
    return photon_flux_per_lux(relative, t.nm, t.v_lambda)


@cache
def reference_epsilon() -> FloatArray:
    """ε(λ) on ``GRID_NM`` (M⁻¹cm⁻¹) of the reference drug's best spectrum, at its best height and width."""
    spectral = shipped()
    absorption = spectral.absorption[spectral.reference_drug]
    out: FloatArray = absorption.spectra[absorption.best].epsilon(GRID_NM)[0]
    return out


def thin_kappa(photon_flux: FloatArray) -> FloatArray:
    """κ_s of spectra given as photon flux per lux on ``GRID_NM`` (rows × wavelengths): the photons a thin
    solution of the reference drug absorbs per lux, over those it absorbs from FL2 per lux. The best value
    of every configured lamp's κ_s is this (:mod:`monitor.model.light_catalog`)."""
    eps = reference_epsilon()
    out: FloatArray = (np.atleast_2d(photon_flux) @ eps) / float(source_photon_flux(REFERENCE_SPECTRUM) @ eps)
    return out
