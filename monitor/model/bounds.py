"""Potency as best, low and high, and the time left before a threshold: pure functions over segments.

The best estimate is the model of :mod:`monitor.model.kinetics` at the profile's values. The bounds move every
uncertain input to the end that makes the vial lose less (high) or more (low) potency:

- the photolysis rate k_thin · F(A) over the profile's parameter ranges (photokinetics.md §7, "Range");
- the packaging transmittance τ_pkg and the lamp spectrum factor κ_s over their ranges (§6, §7);
- the dose each segment received: the sensor's calibration uncertainty, light the sensor did not see (data
  gaps, bounded by a worst-case lux) and saturated readings (lower bounds only, so they widen the low bound).

- the thermal term's equivalent hours Θ over the activation energy's range and the temperature sensor's
  calibration uncertainty (a segment's ``reference_hours``; exact when not given).

Every term of the exponent is monotone in each input, so the corners bound the model: best always lies
within low and high. Light nobody could bound (no worst case known) makes the low bound 0 %.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.model.kinetics import ExposureSegment, PotencyEstimate, potency


@dataclass(frozen=True, slots=True)
class Interval:
    """A quantity as best estimate with the low and high ends of its range."""

    best: float
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.best <= self.high:
            raise ValueError(f"best {self.best} must lie within [{self.low}, {self.high}]")

    @classmethod
    def exact(cls, value: float) -> Interval:
        return cls(value, value, value)


@dataclass(frozen=True, slots=True)
class SegmentRange:
    """One segment at its best values (``segment``) and the ranges of what is uncertain in it."""

    segment: ExposureSegment
    tau: Interval
    kappa: Interval
    lux_hours: Interval
    unbounded: bool = False  # light the sensor did not see, with nothing to bound it
    reference_hours: Interval | None = None  # Θ's range; None: exactly the segment's
    # The joint k per (plain) lux·h of the form behind its packaging under its light, κ_s and τ_pkg
    # included (monitor.model.place_rates); None: k_light·κ_s·τ_pkg with their ranges
    light_rate: Interval | None = None

    @property
    def thermal(self) -> Interval:
        return self.reference_hours or Interval.exact(self.segment.reference_hours)


@dataclass(frozen=True, slots=True)
class PotencyRange:
    """Potency (% of label) and effective dose ∫ κ_s·τ_pkg·E dt (lux·h), each best, low and high."""

    percent: Interval
    effective_lux_hours: Interval
    best: PotencyEstimate
    unbounded: bool


def potency_range(
    initial_percent: float, k_light: Interval, k_ref_per_hour: float, segments: Sequence[SegmentRange]
) -> PotencyRange:
    """Best, low and high potency over a vial's segments (``k_light`` per effective lux·h)."""
    best = potency(initial_percent, k_light.best, k_ref_per_hour, [s.segment for s in segments])
    most = sum(s.kappa.high * s.tau.high * s.lux_hours.high for s in segments)
    least = sum(s.kappa.low * s.tau.low * s.lux_hours.low for s in segments)
    rates = [_light_rate(s, k_light) for s in segments]
    light_most = sum(
        r.high * s.segment.light_temperature_factor * s.lux_hours.high
        for r, s in zip(rates, segments, strict=True)
    )
    light_least = sum(
        r.low * s.segment.light_temperature_factor * s.lux_hours.low
        for r, s in zip(rates, segments, strict=True)
    )
    if any(s.light_rate is not None for s in segments):
        light_best = sum(
            r.best * s.segment.light_temperature_factor * s.segment.lux_hours
            for r, s in zip(rates, segments, strict=True)
        )
        best = PotencyEstimate(
            percent=initial_percent * math.exp(-(light_best + best.thermal_exponent)),
            effective_lux_hours=best.effective_lux_hours,
            light_exponent=light_best,
            thermal_exponent=best.thermal_exponent,
        )
    thermal_most = k_ref_per_hour * sum(s.thermal.high for s in segments)
    thermal_least = k_ref_per_hour * sum(s.thermal.low for s in segments)
    unbounded = any(s.unbounded and s.kappa.high * s.tau.high > 0 for s in segments)
    low = 0.0 if unbounded else initial_percent * math.exp(-(light_most + thermal_most))
    high = initial_percent * math.exp(-(light_least + thermal_least))
    # Rounding can put the corners a hair across the best value when every range is exact.
    low, high = min(low, best.percent), max(high, best.percent)
    effective = Interval(
        best.effective_lux_hours, min(least, best.effective_lux_hours), max(most, best.effective_lux_hours)
    )
    return PotencyRange(Interval(best.percent, low, high), effective, best, unbounded)


def _light_rate(s: SegmentRange, k_light: Interval) -> Interval:
    """The segment's k per lux·h: its joint rate, or k_light·κ_s·τ_pkg at the best values and corners."""
    if s.light_rate is not None:
        return s.light_rate
    return Interval(
        k_light.best * s.segment.kappa * s.segment.tau,
        k_light.low * s.kappa.low * s.tau.low,
        k_light.high * s.kappa.high * s.tau.high,
    )


def hours_to_threshold(percent: float, threshold_percent: float, loss_rate_per_hour: float) -> float:
    """Hours until ``percent`` decays to ``threshold_percent`` at a constant first-order rate.

    0 when already at or below it; infinity when nothing degrades it.
    """
    if percent <= threshold_percent:
        return 0.0
    if loss_rate_per_hour <= 0:
        return math.inf
    return math.log(percent / threshold_percent) / loss_rate_per_hour
