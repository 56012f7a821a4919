"""κ_s from what a location's spectral or UV sensor measured, as a range: pure arithmetic on ledgers.

Where a spectral sensor (AS7341) measured the light, κ_s over a stretch is the lux-weighted mean of its
readings' κ_s times the profiles' ``measured-spectrum`` factor, whose range is the estimate's error over
the §6 sources. Where only a UV sensor (LTR390) did, the near-UV per lux says how much of the light was
daylight (:func:`monitor.model.spectral.daylight_share`) and κ_s mixes the configured lamp's and
daylight's in those shares. Light the sensor did not characterise keeps the configured lamp's κ_s, in
proportion to its share of the stretch's lux·h (:func:`blend`), so a failing sensor never narrows a range.
κ_s is what the words and the effective dose report; the light rate is the photolysis integral of the
measured light itself (:mod:`monitor.model.place_rates`), which :func:`over_stretches` reads from the same
sensors per stretch: the mean spectrum the spectral sensor's spectrum ledgers give, or the UV sensor's
daylight share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.model import place_rates
from monitor.model.bounds import Interval
from monitor.model.inputs import LocationInputs
from monitor.model.kinetics import FloatArray
from monitor.model.place_rates import DAYLIGHT_LAMP, MeasuredLight, blend
from monitor.model.profiles import Catalog
from monitor.model.spectral import MEASURED_SPECTRUM_LAMP, SPECTRAL_CHIPS, daylight_share, reconstruction

__all__ = [
    "DAYLIGHT_LAMP",
    "KappaFacts",
    "MeasuredStretches",
    "blend",
    "daylight_mix",
    "lamp_kappa",
    "measured",
    "over_stretches",
]
MEASURED_SPECTRUM = MEASURED_SPECTRUM_LAMP
UV_ASSUMPTIONS = (
    "its near-UV estimate (an assumed W/m² per UV index unless calibrated) and the lamp taken to emit"
    " no near-UV"
)


def lamp_kappa(catalog: Catalog, lamp: str) -> Interval:
    c = catalog.lamp(lamp).kappa
    return Interval(c.value, c.lowest, c.highest)


def measured(catalog: Catalog, kappa: float) -> Interval:
    """A κ_s the spectral sensor measured, with the measured-spectrum factor's range."""
    f = catalog.lamp(MEASURED_SPECTRUM).kappa
    return Interval(kappa * f.value, kappa * f.lowest, kappa * f.highest)


def daylight_mix(catalog: Catalog, lamp: Interval, near_uv_per_lux: float) -> tuple[Interval, float]:
    """κ_s of light that is the configured lamp's and daylight's in the shares its near-UV per lux gives;
    also the best daylight share."""
    day = catalog.lamp(DAYLIGHT_LAMP).kappa
    best, low = daylight_share(near_uv_per_lux)
    return place_rates.daylight_mix(lamp, Interval(day.value, day.lowest, day.highest), best, low), best


@dataclass(frozen=True, slots=True)
class KappaFacts:
    """A κ_s a spectral or UV sensor measured over a stretch, and how much of the light it covered."""

    measured: Interval
    share: float  # of the stretch's lux·h; the configured lamp's κ_s for the rest
    daylight_share: float | None  # from a UV sensor's near-UV; None: a spectral sensor's


@dataclass(frozen=True, slots=True)
class MeasuredStretches:
    """κ_s over each stretch (best, low, high), and what a sensor measured of its light."""

    best: FloatArray
    low: FloatArray
    high: FloatArray
    facts: list[KappaFacts | None]  # per row, what was measured (None: the lamp's alone)
    light: list[MeasuredLight | None]  # per row, the measured light its joint rate reads


def _spectra(
    location: LocationInputs, start: FloatArray, end: FloatArray, lux_hours: FloatArray
) -> list[MeasuredLight | None]:
    """Per stretch, the lux-weighted mean spectrum a spectral chip measured (its spectrum ledgers'
    difference, per lux) and the share of the stretch's lux·h it covers; None where it saw nothing."""
    record = location.spectral
    chip = None if record is None else SPECTRAL_CHIPS.get(record.chip)
    if record is None or record.spectrum_ledger is None or chip is None:
        return [None] * len(start)
    delta = record.spectrum_ledger.at(end) - record.spectrum_ledger.at(start)  # stretches × channels
    seen = delta @ reconstruction(chip).lux  # lux·h: the estimate is scaled to each reading's lux
    out: list[MeasuredLight | None] = [None] * len(start)
    for k in np.flatnonzero((seen > 0.0) & (end > start)).tolist():
        total = float(lux_hours[k])
        share = 1.0 if total <= 0.0 else min(float(seen[k]) / total, 1.0)
        out[k] = MeasuredLight(share, record.chip, delta[k] / seen[k])
    return out


def over_stretches(
    catalog: Catalog, location: LocationInputs, start: FloatArray, end: FloatArray, best_lux_hours: FloatArray
) -> MeasuredStretches:
    """κ_s over each stretch: measured where a spectral (or UV) sensor saw light, else the lamp's."""
    lamp = lamp_kappa(catalog, location.lamp)
    n = len(start)
    best, low, high = np.full(n, lamp.best), np.full(n, lamp.low), np.full(n, lamp.high)
    facts: list[KappaFacts | None] = [None] * n
    light: list[MeasuredLight | None] = [None] * n
    if location.spectral is not None:
        light = _spectra(location, start, end, best_lux_hours)
        seen = location.spectral.lux_ledger.at(end) - location.spectral.lux_ledger.at(start)
        weighted = location.spectral.kappa_lux_ledger.at(end) - location.spectral.kappa_lux_ledger.at(start)
    elif location.uv is not None:
        seen = location.uv.lux_ledger.at(end) - location.uv.lux_ledger.at(start)
        weighted = location.uv.near_uv_ledger.at(end) - location.uv.near_uv_ledger.at(start)
    else:
        return MeasuredStretches(best, low, high, facts, light)
    for k in np.flatnonzero((seen > 0.0) & (end > start)).tolist():
        daylight: float | None = None
        if location.spectral is not None:
            seen_kappa = measured(catalog, float(weighted[k] / seen[k]))
        else:
            seen_kappa, daylight = daylight_mix(catalog, lamp, float(weighted[k] / seen[k]))
        lux_hours = float(best_lux_hours[k])
        share = 1.0 if lux_hours <= 0.0 else min(float(seen[k]) / lux_hours, 1.0)
        kappa = blend(share, seen_kappa, lamp)
        best[k], low[k], high[k] = kappa.best, kappa.low, kappa.high
        facts[k] = KappaFacts(seen_kappa, share, daylight)
        if daylight is not None:
            day_best, day_low = daylight_share(float(weighted[k] / seen[k]))
            light[k] = MeasuredLight(share, daylight_best=day_best, daylight_low=day_low)
    return MeasuredStretches(best, low, high, facts, light)
