"""κ_s from what a location's spectral or UV sensor measured, as a range: pure arithmetic on ledgers.

Where a spectral sensor (AS7341) measured the light, κ_s over a stretch is the lux-weighted mean of its
readings' κ_s times the profiles' ``measured-spectrum`` factor, whose range is the estimate's error over
the §6 sources. Where only a UV sensor (LTR390) did, the near-UV per lux says how much of the light was
daylight (:func:`monitor.model.spectral.daylight_share`) and κ_s mixes the configured lamp's and
daylight's in those shares. Light the sensor did not characterise keeps the configured lamp's κ_s, in
proportion to its share of the stretch's lux·h (:func:`blend`), so a failing sensor never narrows a range.
κ_s is what the words and the effective dose report; the light rate is the photolysis integral of the
measured light itself (:mod:`monitor.model.place_rates`).
"""

from __future__ import annotations

from monitor.model import place_rates
from monitor.model.bounds import Interval
from monitor.model.place_rates import DAYLIGHT_LAMP, blend
from monitor.model.profiles import Catalog
from monitor.model.spectral import MEASURED_SPECTRUM_LAMP, daylight_share

__all__ = ["DAYLIGHT_LAMP", "blend", "daylight_mix", "lamp_kappa", "measured"]
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
