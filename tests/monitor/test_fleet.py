"""The vectorised fleet evaluator agrees with the per-vial model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor import fleet, kinetics, ledger


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_fleet_matches_segment_by_segment_model(seed: int) -> None:
    """For random light and random vial histories, numpy over the ledger equals the per-segment model."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 6 * 3600.0, 1.0)
    lux = np.where(rng.random(t.size) < 0.1, rng.uniform(300, 1000, t.size), 0.0)
    cum, _ = ledger.integrate(None, t, lux, 3.0)
    vials, segments = 20, 5
    edges = np.sort(rng.integers(0, int(t[-1]), (vials, segments + 1)), axis=1).astype(np.float64)
    tau = rng.choice([0.0, 0.3, 0.9, 1.0], (vials, segments))
    k = np.full(vials, 1.456e-3)
    f0 = np.full(vials, 100.0)
    percent, effective = fleet.potencies(t, cum, edges, tau, k, f0)
    for v in range(vials):
        segs = [
            kinetics.ExposureSegment(
                edges[v, s],
                edges[v, s + 1],
                tau[v, s],
                float(np.interp(edges[v, s + 1], t, cum) - np.interp(edges[v, s], t, cum)),
                0.0,
            )
            for s in range(segments)
        ]
        expected = kinetics.potency(100.0, 1.456e-3, 0.0, segs)
        assert percent[v] == pytest.approx(expected.percent, rel=1e-12)
        assert effective[v] == pytest.approx(expected.effective_lux_hours, rel=1e-12, abs=1e-12)


def test_dark_vials_keep_full_potency() -> None:
    """No light at all: every vial stays at its initial potency."""
    t = np.arange(0.0, 100.0)
    percent, _ = fleet.potencies(
        t,
        np.zeros_like(t),
        np.array([[0.0, 50.0, 99.0]]),
        np.array([[1.0, 1.0]]),
        np.array([1e-3]),
        np.array([98.0]),
    )
    assert percent.tolist() == [98.0]


def test_fleet_gives_the_bounds_with_weights_at_the_ends_of_their_ranges() -> None:
    """κ_s·τ_pkg weights and k at their high ends through the fleet equal monitor.bounds' low potency."""
    from monitor import bounds
    from monitor.bounds import Interval, SegmentRange

    t = np.arange(0.0, 3601.0)
    cum, _ = ledger.integrate(None, t, np.full(t.size, 500.0), 3.0)
    edges = np.array([[0.0, 1200.0, 3600.0]])
    tau, kappa, k = Interval(0.3, 0.1, 0.6), Interval(1.0, 0.63, 1.77), Interval(1.4e-3, 1.3e-3, 1.5e-3)
    low, _ = fleet.potencies(
        t, cum, edges, np.full((1, 2), tau.high * kappa.high), np.array([k.high]), np.array([100.0])
    )
    segs = []
    for a, b in ((0.0, 1200.0), (1200.0, 3600.0)):
        d = float(np.interp(b, t, cum) - np.interp(a, t, cum))
        segs.append(
            SegmentRange(kinetics.ExposureSegment(a, b, tau.best, d, 0.0), tau, kappa, Interval.exact(d))
        )
    assert low[0] == pytest.approx(bounds.potency_range(100.0, k, 0.0, segs).percent.low, rel=1e-12)
