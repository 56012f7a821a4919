"""The quantities vialguard measures, and what the location ledger integrates for each.

Light: lux itself, so the ledger holds lux·h. Temperature: the Arrhenius factor at the USP MKT activation
energy relative to 25 °C, so the ledger holds equivalent hours at 25 °C, from which both the mean kinetic
temperature and the thermal degradation term follow (photokinetics.md §4, §7).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from monitor.model.kinetics import (
    CELSIUS_TO_KELVIN,
    LEDGER_T_REF_KELVIN,
    MKT_DELTA_H_OVER_R_KELVIN,
    FloatArray,
    arrhenius_factor,
)

Quantity = Literal["light", "temperature"]
QUANTITIES: tuple[Quantity, ...] = ("light", "temperature")


def ledger_integrand(quantity: Quantity, values: FloatArray) -> FloatArray:
    """The rate the ledger integrates, from stored values (lux, or °C)."""
    if quantity == "light":
        return values
    return arrhenius_factor(values + CELSIUS_TO_KELVIN, MKT_DELTA_H_OVER_R_KELVIN, LEDGER_T_REF_KELVIN)


def ledger_integrand_one(quantity: Quantity, value: float) -> float:
    return float(ledger_integrand(quantity, np.array([value], dtype=np.float64))[0])
