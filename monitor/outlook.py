"""A vial's status at a glance and the time left to a potency threshold. Pure.

The status reads like a vaccine vial monitor: green (use), amber (watch: below the warning threshold), red
(do not use: below the critical threshold). The time left assumes the conditions now (the lux and °C the
location reads at this moment) continue: under first-order loss at rate r per hour, potency p reaches the
threshold q after ln(p / q) / r hours (photokinetics.md §7).
"""

from __future__ import annotations

import math
from typing import Literal

VialStatus = Literal["green", "amber", "red"]


def vial_status(percent: float, warning_percent: float, critical_percent: float) -> VialStatus:
    """Green at or above the warning threshold, red below the critical one, amber between."""
    if percent < critical_percent:
        return "red"
    if percent < warning_percent:
        return "amber"
    return "green"


def loss_rate_per_hour(
    *,
    k_light_per_lux_hour: float,
    tau: float,
    lux: float,
    k_ref_per_hour: float,
    arrhenius_factor: float,
) -> float:
    """r = k_L · τ · E + k_ref · exp(−(Ea/R)(1/T − 1/T_ref)): loss per hour, conditions held."""
    return k_light_per_lux_hour * tau * max(lux, 0.0) + k_ref_per_hour * arrhenius_factor


def hours_to_threshold(percent: float, threshold_percent: float, rate_per_hour: float) -> float | None:
    """Hours until ``percent`` falls to ``threshold_percent`` at ``rate_per_hour``.

    0 when it is already there; None when it never gets there (no loss at these conditions).
    """
    if percent <= threshold_percent:
        return 0.0
    if rate_per_hour <= 0 or threshold_percent <= 0:
        return None
    return math.log(percent / threshold_percent) / rate_per_hour
