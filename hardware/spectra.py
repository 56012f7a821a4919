"""Lamp spectra for the simulated environment: what light of each lamp type contains, per lux.

The table ``data/lamp_spectra.csv`` holds, at 5 nm from 300 to 780 nm, the CIE 1924 photopic luminosity
function V(λ) and the relative spectral power of the CIE standard sources the photokinetics reference
uses in its §6 table (D65, ID65, A, FL2, FL4, FL11, LED-B1, LED-B3, LED-B5), as shipped in
``colour-science`` 0.4.7 (``SDS_ILLUMINANTS`` and ``SDS_LEFS_PHOTOPIC["CIE 1924 Photopic Standard
Observer"]``); ``scripts/lamp_spectra.py`` regenerates the file from that package and checked it value for
value (identical to 6 significant figures). The fluorescent and LED tables start
at 380 nm (zero below), as in §6.

Emulated chips use these spectra to turn the environment's lux into channel counts; the model in
``monitor`` never reads them (it sees only the chips' counts).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

# Maximum luminous efficacy of radiation for photopic vision (SI definition of the candela), lm/W.
KM_LUMENS_PER_WATT = 683.0
PLANCK_J_S = 6.62607015e-34
LIGHT_M_PER_S = 2.99792458e8

# vialguard's lamp types (the drug profiles' [lamps.*]) and the CIE source each stands for (§6).
LAMP_SOURCES: dict[str, str] = {
    "fluorescent-cool-white": "FL2",
    "fluorescent": "FL2",
    "fluorescent-warm-white": "FL4",
    "fluorescent-triband": "FL11",
    "led-2700k": "LED-B1",
    "led-4000k": "LED-B3",
    "led-6500k": "LED-B5",
    "daylight-window": "D65",
    "indoor-daylight": "ID65",
    "incandescent": "A",
}


@dataclass(frozen=True, slots=True)
class SpectralTable:
    wavelengths_nm: Array
    v_lambda: Array
    sources: dict[str, Array]


@cache
def table() -> SpectralTable:
    text = resources.files("hardware").joinpath("data/lamp_spectra.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    names = [k for k in rows[0] if k not in ("nm", "V")]

    def col(k: str) -> Array:
        return np.array([float(r[k]) for r in rows], dtype=np.float64)

    return SpectralTable(col("nm"), col("V"), {n: col(n) for n in names})


def source_of(lamp: str) -> str:
    """The CIE source behind a lamp type; ``KeyError`` naming the known ones otherwise."""
    try:
        return LAMP_SOURCES[lamp]
    except KeyError:
        raise KeyError(f"unknown lamp {lamp!r}; known: {', '.join(sorted(LAMP_SOURCES))}") from None


def spectral_irradiance(lamp: str, lux: float) -> Array:
    """Spectral irradiance in W/m²/nm at the table's wavelengths, scaled so it gives ``lux``."""
    t = table()
    relative = t.sources[source_of(lamp)]
    lux_of_relative = KM_LUMENS_PER_WATT * float(np.trapezoid(relative * t.v_lambda, t.wavelengths_nm))
    return relative * (lux / lux_of_relative)


def band_irradiance_w_per_m2(lamp: str, lux: float, low_nm: float, high_nm: float) -> float:
    """Irradiance between two wavelengths (W/m²) of ``lux`` of ``lamp`` light."""
    t = table()
    inside = (t.wavelengths_nm >= low_nm) & (t.wavelengths_nm <= high_nm)
    return float(np.trapezoid(spectral_irradiance(lamp, lux)[inside], t.wavelengths_nm[inside]))


def near_uv_w_per_m2(lamp: str, lux: float) -> float:
    """Near-UV irradiance, 300-400 nm, as the §6 table's "W/m² 300-400" column (D65: 0.54 per klx)."""
    return band_irradiance_w_per_m2(lamp, lux, 300.0, 400.0)
