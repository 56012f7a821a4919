"""Potency of many vials at once from one location's ledger: numpy over the cumulative dose.

The ledger holds the cumulative dose D(t) at each reading. A vial's effective dose is Σ τ_s · (D(b_s+1) −
D(b_s)) over its segments (between events), so every vial is a handful of interpolations into D: a year of
1 Hz readings and a thousand vials cost one ``np.interp`` over the boundary times, not a pass per vial.
Pure: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def potencies(
    ledger_seconds: FloatArray,
    ledger_lux_hours: FloatArray,
    boundaries: FloatArray,
    tau: FloatArray,
    k_light_per_lux_hour: FloatArray,
    initial_percent: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Potency (%) and effective lux·h for V vials with S segments each.

    ``boundaries`` is (V, S + 1) segment edges in seconds, ``tau`` (V, S) each segment's weight on the dose,
    κ_s · τ_pkg (lamp spectrum factor times packaging transmittance, photokinetics.md §7; 0 for a segment
    that does not count, e.g. padding after a vial's last event). The bounds of :mod:`monitor.bounds` are
    the same call with the weights and rates at the ends of their ranges,
    ``k_light_per_lux_hour`` and ``initial_percent`` (V,). Between readings the ledger is interpolated
    linearly (exact to the trapezoid at the readings themselves).
    """
    dose_at = np.interp(boundaries, ledger_seconds, ledger_lux_hours)
    effective = np.sum(tau * np.diff(dose_at, axis=1), axis=1)
    return initial_percent * np.exp(-k_light_per_lux_hour * effective), effective
