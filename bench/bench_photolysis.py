"""Photolysis integral: the joint light rate of one vial's form, state and lamp, with its bounds.

The code measured is :meth:`monitor.model.profiles.Catalog.light_rate`: the integral over 81 wavelengths
for 97 drawn rows and every plausible calibration source, the envelope taken. The baseline is the live
path's per-stretch arithmetic it would sit beside: one vial's potency bounds over a day of 1 Hz readings
(:func:`monitor.model.ledger.integrate` over 86,400 samples). The catalogue's derived constants (form rate,
κ_s, τ_pkg), computed once at load, are measured too, against the same baseline.
"""

from __future__ import annotations

import numpy as np

from bench.harness import Figure, figure, median_time
from monitor.model import ledger
from monitor.model.profiles import load_catalog


def run(smoke: bool) -> list[Figure]:
    repeats = 3 if smoke else 21
    catalog = load_catalog()
    form = catalog.form("mecobalamin", "rozebalamin-25mg")
    lamp, state = catalog.lamp("unknown"), catalog.packaging_state("light-protected-vial")
    ours = median_time(lambda: catalog.light_rate("mecobalamin", form, lamp, state), repeats)
    t = np.arange(0.0, 86_400.0)
    lux = np.full_like(t, 500.0)
    floor = median_time(lambda: ledger.integrate(None, t, lux, 3.0), repeats)
    load = median_time(load_catalog, 1 if smoke else 5)
    return [
        figure(
            "Photolysis integral: one vial's joint rate and bounds",
            ours,
            floor,
            "ledger integral of a day of 1 Hz lux",
            "s",
            "within 1x of the baseline",
            ours <= floor,
        ),
        figure(
            "Catalogue load with every derived light constant",
            load,
            floor,
            "ledger integral of a day of 1 Hz lux",
            "s",
            "within 100x of the baseline (once per process)",
            load <= 100 * floor,
        ),
    ]
