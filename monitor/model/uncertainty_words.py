"""What widened a vial's potency bounds, in words: the lines the API shows as ``potency_uncertainty``.

One line per cause a stretch had (calibration, time without data, saturated readings, a measured κ_s,
the thermal range), then the photolysis rate's range; a line repeated by several stretches is shown once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.model.bounds import Interval
from monitor.model.constants import Constant
from monitor.model.inputs import LocationInputs
from monitor.model.measured_kappa import UV_ASSUMPTIONS, KappaFacts
from monitor.model.profiles import DrugModel


@dataclass(frozen=True, slots=True)
class RowFacts:
    """One stretch as evaluated at the vial's data time, as the words need it."""

    location: LocationInputs
    silent: bool  # after the data's time: only the dose's words
    hours: float
    covered_hours: float
    unseen_hours: float
    bound_lux: float  # NaN: nothing bounds the unseen light
    packaging: str
    assumed_lux: Constant | None  # the packaging's assumed lux, where it bounded unseen light
    saturated: int
    kappa: KappaFacts | None  # None: the configured lamp's alone
    theta_low_hours: float
    theta_high_hours: float
    theta_celsius: float  # the effective temperature Θ's range is taken at; NaN where exact


def _assumed(row: RowFacts, what: str) -> str:
    a = row.assumed_lux
    assert a is not None  # called only where the assumption bounded the light
    return (
        f"{what} in '{row.packaging}' taken at up to {a.highest:g} lx, an assumption ({a.value:g} lx,"
        f" range {a.lowest:g}-{a.highest:g}: {a.source})"
    )


def _dose(row: RowFacts) -> list[str]:
    worst, light = row.location.worst_case_lux, row.location.light
    if light is None:
        if worst is None and row.assumed_lux is not None:
            return [
                _assumed(row, f"no light sensor and no worst-case lux at the location: {row.hours:.3g} h")
            ]
        if worst is None:
            return ["no light sensor and no worst-case lux at the location: light unbounded"]
        return [f"no light sensor: {row.hours:.3g} h at the worst case {worst:g} lx"]
    out = []
    u = light.calibration_uncertainty_lux
    if u > 0:
        out.append(f"sensor {light.key}: calibration ±{u:g} lx over {row.covered_hours:.3g} h")
    if row.unseen_hours > 0:
        if worst is None and row.assumed_lux is not None and row.bound_lux == row.assumed_lux.highest:
            out.append(_assumed(row, f"sensor {light.key}: {row.unseen_hours:.3g} h without data"))
        elif math.isnan(row.bound_lux):
            out.append(f"sensor {light.key}: {row.unseen_hours:.3g} h without data and nothing to bound it")
        else:
            which = "worst case" if worst is not None else "highest seen"
            unseen = f"{row.unseen_hours:.3g} h without data"
            out.append(f"sensor {light.key}: {unseen} at the {which} {row.bound_lux:g} lx")
    if row.saturated:
        if worst is None and row.assumed_lux is not None:
            out.append(_assumed(row, f"sensor {light.key}: {row.saturated} saturated readings"))
        elif worst is None:
            out.append(
                f"sensor {light.key}: {row.saturated} saturated readings (lower bounds) and no worst case"
            )
        else:
            out.append(f"sensor {light.key}: {row.saturated} saturated readings taken up to {worst:g} lx")
    return out


def _kappa(row: RowFacts) -> list[str]:
    if row.kappa is None:
        return []
    measured, share, daylight = row.kappa.measured, row.kappa.share, row.kappa.daylight_share
    lamp = row.location.lamp
    kappa = f"κ_s {measured.best:.2f} ({measured.low:.2f}-{measured.high:.2f})"
    if daylight is None and row.location.spectral is not None:
        covered = "" if share >= 0.995 else f" over {share:.0%} of the light, lamp '{lamp}' for the rest"
        key = row.location.spectral.key
        return [f"{kappa} from the spectrum measured by {key}{covered}, in place of lamp '{lamp}'"]
    covered = "" if share >= 0.995 else f" over {share:.0%} of the light, lamp '{lamp}' alone for the rest"
    key = "" if row.location.uv is None else row.location.uv.key
    return [
        f"{kappa}: {daylight or 0.0:.0%} of the light daylight by the near-UV {key} saw, lamp '{lamp}' the"
        f" rest{covered}; assumes {UV_ASSUMPTIONS}"
    ]


def _thermal(drug: DrugModel, row: RowFacts) -> list[str]:
    low, high, celsius = row.theta_low_hours, row.theta_high_hours, row.theta_celsius
    temp = row.location.temperature
    if temp is None or not high > low:
        return []
    ea, u = drug.activation_energy_kj_per_mol, temp.calibration_uncertainty_celsius
    return [
        f"thermal: Ea {ea.lowest:g}-{ea.highest:g} kJ/mol"
        + (f", sensor {temp.key} ±{u:g} °C" if u else "")
        + f" about {celsius:.1f} °C"
    ]


def words(drug: DrugModel, rows: Sequence[RowFacts], k_light: Interval) -> tuple[str, ...]:
    """The lines for a vial's stretches at its data time, then the rate's range, each once."""
    lines: list[str] = []
    for row in rows:
        lines += _dose(row)
        if not row.silent:
            lines += _kappa(row) + _thermal(drug, row)
    if k_light.low < k_light.high:
        rate = f"rate k_thin·F(A) {k_light.low:.3g}-{k_light.high:.3g} per lux·h"
        lines.append(f"{rate} over the profile's parameter ranges")
    return tuple(dict.fromkeys(lines))
