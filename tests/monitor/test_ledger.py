"""The cumulative ledger: trapezoid integration, gaps kept as gaps, properties under Hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.model import ledger

lux_values = st.lists(st.floats(min_value=0, max_value=100_000, allow_nan=False), min_size=2, max_size=60)
steps = st.lists(st.floats(min_value=0.1, max_value=20.0), min_size=60, max_size=60)


def series(lux: list[float], dt: list[float]) -> tuple[np.ndarray, np.ndarray]:
    t = np.cumsum(np.asarray(dt[: len(lux)], dtype=np.float64))
    return t, np.asarray(lux, dtype=np.float64)


@given(lux_values, steps)
def test_dose_is_non_negative_and_monotone(lux: list[float], dt: list[float]) -> None:
    """Cumulative dose never goes below zero and never decreases."""
    t, y = series(lux, dt)
    cum, _ = ledger.integrate(None, t, y, max_gap_seconds=30.0)
    assert cum[0] == 0.0
    assert np.all(np.diff(cum) >= 0)


@given(lux_values, steps, st.integers(min_value=1, max_value=58))
def test_dose_is_additive_over_split_batches(lux: list[float], dt: list[float], split: int) -> None:
    """Integrating in two batches (continuing from the tail) equals integrating at once."""
    t, y = series(lux, dt)
    split = min(split, len(t) - 1)
    whole, _ = ledger.integrate(None, t, y, 15.0)
    first, _ = ledger.integrate(None, t[:split], y[:split], 15.0)
    tail = ledger.Tail(float(t[split - 1]), float(y[split - 1]), float(first[-1]))
    second, _ = ledger.integrate(tail, t[split:], y[split:], 15.0)
    np.testing.assert_allclose(np.concatenate((first, second)), whole, rtol=1e-12, atol=1e-9)


@given(lux_values, steps, st.floats(min_value=0.0, max_value=50.0))
def test_dose_is_linear_in_lux(lux: list[float], dt: list[float], scale: float) -> None:
    """Scaling every lux value scales the dose by the same factor."""
    t, y = series(lux, dt)
    base, _ = ledger.integrate(None, t, y, 30.0)
    scaled, _ = ledger.integrate(None, t, y * scale, 30.0)
    np.testing.assert_allclose(scaled, base * scale, rtol=1e-9, atol=1e-9)


def test_constant_light_for_an_hour_gives_lux_hours() -> None:
    """500 lx for one hour sampled each second is 500 lx·h."""
    t = np.arange(0.0, 3601.0)
    cum, gaps = ledger.integrate(None, t, np.full_like(t, 500.0), 3.0)
    assert cum[-1] == pytest.approx(500.0)
    assert gaps == []


def test_interval_longer_than_max_gap_is_a_gap_not_a_chord() -> None:
    """A 100 s hole in 1 s data adds nothing and is reported with its ends."""
    t = np.array([0.0, 1.0, 101.0, 102.0])
    cum, gaps = ledger.integrate(None, t, np.full(4, 3600.0), 3.0)
    assert cum.tolist() == pytest.approx([0.0, 1.0, 1.0, 2.0])
    assert gaps == [ledger.Gap(1.0, 101.0)]


def test_value_at_interpolates_exactly_for_linear_light() -> None:
    """Between two samples the ledger at t is the integral of the linear lux between them."""
    before, after = (0.0, 0.0, 0.0), (10.0, 3600.0, 5.0)
    assert ledger.value_at(5.0, before, after, 30.0) == pytest.approx(1.25)
    assert ledger.value_at(5.0, before, after, 3.0) == 0.0  # inside a gap: nothing added
    assert ledger.value_at(-1.0, None, before, 30.0) == 0.0
