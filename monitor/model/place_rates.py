"""The light rate where a vial sits: k per lux·h of its form behind its packaging under its lamp.

Where the catalogue can integrate the combination (:meth:`monitor.model.profiles.Catalog.light_rate`, the
photolysis integral of :mod:`monitor.model.photolysis`), the rate is that joint one. It is sharper than
the product of the form's rate, the lamp's κ_s and the packaging's τ_pkg, each with its own range, and it
is right where the product is not: τ_pkg and κ_s are weighted for a thin solution, so for a thick one
behind coloured glass the product's best is low (reconstituted Rozebalamin behind amber under cool-white
fluorescent: 6.2e-6 against the integral's 9.9e-6 per lux·h). Where the catalogue cannot (a lamp or
packaging given as a bare number, a drug without an absorption spectrum, light whose κ_s a spectral or UV
sensor measured), :func:`product` keeps the three factors with their ranges.
"""

from __future__ import annotations

from monitor.model.bounds import Interval
from monitor.model.profiles import Catalog

PlaceKey = tuple[str, str, str, str]  # drug, form, lamp, packaging state


def product(k_light: Interval, kappa: Interval, tau: Interval) -> Interval:
    """k_thin·F(A)·κ_s·τ_pkg at the best values and at the corners."""
    return Interval(
        k_light.best * kappa.best * tau.best,
        k_light.low * kappa.low * tau.low,
        k_light.high * kappa.high * tau.high,
    )


class JointRates:
    """The joint rate of each (drug, form, lamp, packaging) met in one evaluation, integrated once."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._found: dict[PlaceKey, Interval | None] = {}

    def get(self, drug: str, form: str, lamp: str, packaging: str) -> Interval | None:
        """The joint rate per lux·h, or None where only the product of the factors is known."""
        key = (drug, form, lamp, packaging)
        if key not in self._found:
            c = self._catalog
            r = c.light_rate(drug, c.form(drug, form), c.lamp(lamp), c.packaging_state(packaging))
            self._found[key] = None if r is None else Interval(r.best, r.low, r.high)
        return self._found[key]
