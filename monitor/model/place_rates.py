"""The light rate where a vial sits: k per lux·h of its form behind its packaging under the light there.

Where the catalogue can integrate the combination (:meth:`monitor.model.profiles.Catalog.light_rate`, the
photolysis integral of :mod:`monitor.model.photolysis`), the rate is that joint one. It is sharper than
the product of the form's rate, the lamp's κ_s and the packaging's τ_pkg, each with its own range, and it
is right where the product is not: τ_pkg and κ_s are weighted for a thin solution, so for a thick one
behind coloured glass the product's best is low (reconstituted Rozebalamin behind amber under cool-white
fluorescent: 6.2e-6 against the integral's 9.9e-6 per lux·h).

Light a sensor measured goes into the same integral (:func:`measured`): a spectral chip's spectrum
(the lux-weighted mean over the stretch, from its spectrum ledgers: the integral being linear in the
spectrum, its rate is the lux-weighted mean of the readings' rates), or a UV sensor's daylight share, the
mix of the lamp's joint rate and daylight's. Light the sensor did not characterise keeps the lamp's joint
rate, in proportion to its share of the stretch's lux·h. Where the catalogue cannot integrate (a lamp or
packaging given as a bare number, a drug without an absorption spectrum), :func:`product` keeps the three
factors with their ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.model.bounds import Interval
from monitor.model.kinetics import FloatArray
from monitor.model.photolysis import LinearRates
from monitor.model.profiles import Catalog
from monitor.model.spectral import SPECTRAL_CHIPS

PlaceKey = tuple[str, str, str, str]  # drug, form, lamp, packaging state
DAYLIGHT_LAMP = "daylight-window"  # the drug profiles' lamp whose spectra are daylight's in a UV-measured mix


def product(k_light: Interval, kappa: Interval, tau: Interval) -> Interval:
    """k_thin·F(A)·κ_s·τ_pkg at the best values and at the corners."""
    return Interval(
        k_light.best * kappa.best * tau.best,
        k_light.low * kappa.low * tau.low,
        k_light.high * kappa.high * tau.high,
    )


@dataclass(frozen=True, slots=True)
class MeasuredLight:
    """What a location's spectral or UV sensor measured of a stretch's light (or of the light now)."""

    share: float  # of the stretch's lux·h the measurement covers; the lamp's for the rest
    chip: str | None = None  # a spectral chip's name, with ``peaks_per_lux``
    peaks_per_lux: FloatArray | None = (
        None  # the mean spectrum (:func:`monitor.model.spectral.peaks_per_lux`)
    )
    daylight_best: float | None = None  # a UV sensor's daylight share (best: window daylight)
    daylight_low: float | None = None  # and its low end (open daylight)


class JointRates:
    """The joint rate of each (drug, form, lamp, packaging) met in one evaluation, integrated once, and
    each (drug, form, packaging, chip)'s rate as a linear map of a measured spectrum."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._found: dict[PlaceKey, Interval | None] = {}
        self._spectra: dict[PlaceKey, LinearRates | None] = {}

    def get(self, drug: str, form: str, lamp: str, packaging: str) -> Interval | None:
        """The joint rate per lux·h, or None where only the product of the factors is known."""
        key = (drug, form, lamp, packaging)
        if key not in self._found:
            c = self._catalog
            r = c.light_rate(drug, c.form(drug, form), c.lamp(lamp), c.packaging_state(packaging))
            self._found[key] = None if r is None else Interval(r.best, r.low, r.high)
        return self._found[key]

    def spectrum(self, drug: str, form: str, packaging: str, chip: str) -> LinearRates | None:
        """The rate per lux·h under a spectrum ``chip`` measured, as a map of its peak irradiances."""
        key = (drug, form, chip, packaging)
        if key not in self._spectra:
            c, found = self._catalog, SPECTRAL_CHIPS.get(chip)
            self._spectra[key] = (
                None
                if found is None
                else c.spectrum_rates(drug, c.form(drug, form), c.packaging_state(packaging), found)
            )
        return self._spectra[key]

    def measured(
        self, drug: str, form: str, lamp: str, packaging: str, light: MeasuredLight
    ) -> Interval | None:
        """The joint rate per lux·h of light a sensor measured (``light.share`` of it; the lamp's for the
        rest), or None where the catalogue cannot integrate the combination."""
        lamp_rate = self.get(drug, form, lamp, packaging)
        if lamp_rate is None:
            return None
        if light.chip is not None and light.peaks_per_lux is not None:
            linear = self.spectrum(drug, form, packaging, light.chip)
            if linear is None:
                return None
            r = linear.rates(light.peaks_per_lux)
            seen = Interval(float(r.best[0]), float(r.low[0]), float(r.high[0]))
        elif light.daylight_best is not None and light.daylight_low is not None:
            day = self.get(drug, form, DAYLIGHT_LAMP, packaging)
            if day is None:
                return None
            seen = daylight_mix(lamp_rate, day, light.daylight_best, light.daylight_low)
        else:
            return lamp_rate
        return blend(light.share, seen, lamp_rate)


# The catalogue's joint rates, kept from one evaluation to the next: a process evaluates with one catalogue
# for its life, and integrating the same four combinations again at every commit was a third of the
# bridge's potency CPU (bench/bench_footprint.py). One entry: a new catalogue (tests, a reload) replaces it.
# Keyed by id(): the kept JointRates holds its catalogue, so the id is not reused while it is kept.
_KEPT: dict[int, JointRates] = {}


def joint_rates(catalog: Catalog) -> JointRates:
    """The :class:`JointRates` of ``catalog``, integrated once per combination for the process's life (the
    catalogue is immutable, and each rate depends on it and the combination alone)."""
    found = _KEPT.get(id(catalog))
    if found is None:
        _KEPT.clear()
        found = _KEPT[id(catalog)] = JointRates(catalog)
    return found


def daylight_mix(lamp: Interval, day: Interval, best: float, low: float) -> Interval:
    """A rate (or κ_s) of light that is daylight in a share between ``low`` and ``best`` (by lux), the
    lamp's the rest: light is additive, and the integral linear in it."""

    def mix(s: float, lamp_value: float, day_value: float) -> float:
        return lamp_value + s * (day_value - lamp_value)

    return Interval(
        mix(best, lamp.best, day.best),
        min(mix(s, lamp.low, day.low) for s in (low, best)),
        max(mix(s, lamp.high, day.high) for s in (low, best)),
    )


def blend(share: float, measured: Interval, lamp: Interval) -> Interval:
    """``share`` of the light at the measured value, the rest at the lamp's."""
    return Interval(
        share * measured.best + (1.0 - share) * lamp.best,
        share * measured.low + (1.0 - share) * lamp.low,
        share * measured.high + (1.0 - share) * lamp.high,
    )
