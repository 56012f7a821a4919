"""Potency bounds as pure functions: the model's properties, under Hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.model import bounds, kinetics, ledger
from monitor.model.bounds import Interval, SegmentRange

K = Interval(1.456e-3 * 0.986, 1.414e-3 * 0.98, 1.46e-3 * 0.99)


@st.composite
def segment_ranges(draw: st.DrawFn) -> SegmentRange:
    tau = sorted(draw(st.lists(st.floats(0, 1), min_size=3, max_size=3)))
    kappa = sorted(draw(st.lists(st.floats(0.5, 2), min_size=3, max_size=3)))
    dose = sorted(draw(st.lists(st.floats(0, 5_000), min_size=3, max_size=3)))
    seg = kinetics.ExposureSegment(0.0, 1.0, tau[1], dose[1], draw(st.floats(0, 1e4)), kappa[1])
    return SegmentRange(
        seg,
        Interval(tau[1], tau[0], tau[2]),
        Interval(kappa[1], kappa[0], kappa[2]),
        Interval(*dose[1:2], dose[0], dose[2]),
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(segment_ranges(), max_size=6), st.floats(50, 110), st.booleans())
def test_best_always_lies_within_low_and_high(
    segments: list[SegmentRange], f0: float, unbounded: bool
) -> None:
    """Whatever the ranges, low ≤ best ≤ high for potency and effective dose; unbounded light gives low 0."""
    if unbounded and segments:
        segments = [*segments[:-1], SegmentRange(**{**_fields(segments[-1]), "unbounded": True})]
    r = bounds.potency_range(f0, K, 1.9e-6, segments)
    assert r.percent.low <= r.percent.best <= r.percent.high
    assert r.effective_lux_hours.low <= r.effective_lux_hours.best <= r.effective_lux_hours.high
    if unbounded and segments and segments[-1].tau.high * segments[-1].kappa.high > 0:
        assert r.percent.low == 0.0


def _fields(s: SegmentRange) -> dict[str, object]:
    return {"segment": s.segment, "tau": s.tau, "kappa": s.kappa, "lux_hours": s.lux_hours}


@settings(max_examples=100, deadline=None)
@given(st.lists(segment_ranges(), min_size=1, max_size=6))
def test_potency_never_rises_as_segments_accumulate(segments: list[SegmentRange]) -> None:
    """Each further segment of life can only lower best, low and high potency (light and heat only take)."""
    previous = bounds.potency_range(100.0, K, 1.9e-6, [])
    for i in range(1, len(segments) + 1):
        now = bounds.potency_range(100.0, K, 1.9e-6, segments[:i])
        assert now.percent.best <= previous.percent.best + 1e-12
        assert now.percent.low <= previous.percent.low + 1e-12
        assert now.percent.high <= previous.percent.high + 1e-12
        previous = now


def _segment_from_ledger(t: np.ndarray, cum: np.ndarray, a: float, b: float, tau: float) -> SegmentRange:
    dose = float(np.interp(b, t, cum) - np.interp(a, t, cum))
    seg = kinetics.ExposureSegment(a, b, tau, dose, 0.0)
    return SegmentRange(seg, Interval.exact(tau), Interval.exact(1.0), Interval.exact(dose))


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.01, 0.99))
def test_splitting_a_period_changes_nothing(seed: int, where: float) -> None:
    """One segment or the same period cut in two at any point: the same potency."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 7200.0)
    lux = rng.uniform(0, 800, t.size)
    cum, _ = ledger.integrate(None, t, lux, 3.0)
    cut = float(t[-1] * where)
    whole = bounds.potency_range(100.0, K, 0.0, [_segment_from_ledger(t, cum, 0.0, t[-1], 0.9)])
    split = bounds.potency_range(
        100.0,
        K,
        0.0,
        [_segment_from_ledger(t, cum, 0.0, cut, 0.9), _segment_from_ledger(t, cum, cut, t[-1], 0.9)],
    )
    assert split.percent.best == pytest.approx(whole.percent.best, rel=1e-12)
    assert split.percent.low == pytest.approx(whole.percent.low, rel=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(1.0, 10.0))
def test_more_lux_never_gives_more_potency(seed: int, factor: float) -> None:
    """Scaling every reading up by a factor ≥ 1 never raises best, low or high potency."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 3600.0)
    lux = rng.uniform(0, 800, t.size)
    results = []
    for scale in (1.0, factor):
        cum, _ = ledger.integrate(None, t, lux * scale, 3.0)
        results.append(bounds.potency_range(100.0, K, 0.0, [_segment_from_ledger(t, cum, 0.0, t[-1], 0.3)]))
    assert results[1].percent.best <= results[0].percent.best
    assert results[1].percent.low <= results[0].percent.low
    assert results[1].percent.high <= results[0].percent.high


@pytest.mark.parametrize(
    ("percent", "threshold", "rate", "expected"),
    [(100.0, 90.0, 0.0, math.inf), (89.0, 90.0, 1.0, 0.0), (100.0, 90.0, math.log(100 / 90), 1.0)],
    ids=["no-loss-never", "already-below", "one-hour"],
)
def test_hours_to_threshold(percent: float, threshold: float, rate: float, expected: float) -> None:
    """Hours to the threshold at a constant first-order rate: never, now, or ln(p/threshold)/rate."""
    assert bounds.hours_to_threshold(percent, threshold, rate) == pytest.approx(expected)


def test_interval_refuses_best_outside_its_range() -> None:
    """An interval whose best lies outside [low, high] is a programming error, caught at once."""
    with pytest.raises(ValueError, match="must lie within"):
        Interval(1.0, 2.0, 3.0)
