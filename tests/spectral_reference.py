"""The thin-solution κ_s straight from the data files: the photons MeCbl absorbs from a lamp per lux over
those it absorbs from cool-white fluorescent light (FL2), Σ q(λ)·ε(λ) over Σ q_FL2(λ)·ε(λ).

Tests compare the model's κ_s with this rather than with the §6 photon counts, which weighted every photon
at 300-560 nm alike (no absorption spectrum then); it reads the shipped band model and the CIE lamp table
and nothing of the photolysis code.
"""

from __future__ import annotations

import tomllib
from importlib import resources

import numpy as np

from monitor.model.spectra import GRID_NM, SpectralFile, source_photon_flux

# The CIE source each configurable lamp key stands for, as in drug_profiles.toml (the usual one).
LAMP_SOURCE = {
    "fluorescent-cool-white": "FL2",
    "fluorescent-warm-white": "FL4",
    "fluorescent-triband": "FL11",
    "led-2700k": "LED-B1",
    "led-4000k": "LED-B3",
    "led-6500k": "LED-B5",
    "daylight-window": "ID65",
    "incandescent": "A",
}


def mecobalamin_epsilon() -> np.ndarray:
    text = resources.files("monitor").joinpath("data/spectral_model.toml").read_text(encoding="utf-8")
    absorption = SpectralFile.model_validate(tomllib.loads(text)).absorption["mecobalamin"]
    return absorption.spectra[absorption.best].epsilon(GRID_NM)[0]


def thin_kappa_of_source(source: str) -> float:
    eps = mecobalamin_epsilon()
    return float(np.sum(source_photon_flux(source) * eps) / np.sum(source_photon_flux("FL2") * eps))


def thin_kappa(lamp: str) -> float:
    return thin_kappa_of_source(LAMP_SOURCE[lamp])
