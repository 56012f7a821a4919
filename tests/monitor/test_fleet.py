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
