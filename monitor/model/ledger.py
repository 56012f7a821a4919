"""Cumulative integrals over sampled series, with gaps kept as gaps.

The location ledger is the running integral of lux (lux·h) and of the Arrhenius factor (equivalent hours at
the reference temperature) over time. Between two samples the integrand is taken as linear (trapezoid). An
interval longer than ``max_gap_seconds`` is a *gap*: nothing is added across it and it is reported, because
a chord across an hour without data would invent an exposure nobody measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Tail:
    """The last point of a series already in the ledger: where the next batch continues from."""

    ts: float
    rate: float
    cumulative: float


@dataclass(frozen=True, slots=True)
class Gap:
    start: float
    end: float


def integrate(
    tail: Tail | None,
    seconds: FloatArray,
    rate: FloatArray,
    max_gap_seconds: float,
    unknown: Sequence[Gap] = (),
    breaks: NDArray[np.bool_] | None = None,
) -> tuple[FloatArray, list[Gap]]:
    """Cumulative integral (in rate·hours) at each of ``seconds``, continuing from ``tail``.

    ``seconds`` must be strictly increasing and later than ``tail.ts``. Returns the cumulative values and the
    gaps found, including one between the tail and the first new sample. Gaps already known are given either
    as ``unknown``, recorded intervals (readings known lost, an outage), or as ``breaks``, a mask with one
    entry per consecutive pair of samples (the tail's included): nothing is added across a sample interval
    they cover, however short, and, being known, they are not reported again.

    Written as a few in-place passes: on a year of 1 Hz readings this runs at a small multiple of one
    numpy pass over the array (``bench/bench_model.py``).
    """
    n = len(seconds)
    if n == 0:
        return np.empty(0), []
    if tail is not None:
        t = np.concatenate(([tail.ts], seconds))
        y = np.concatenate(([tail.rate], rate))
        start = tail.cumulative
    else:
        t, y, start = seconds, rate, 0.0
    dt = np.diff(t)
    if dt.size and dt.min() <= 0:
        raise ValueError("sample times must be strictly increasing")
    # Trapezoids, summed: out[k] = start + Σ_{i<k} dt_i·(y_i + y_{i+1})/2, scaled to hours once at the end.
    out = np.empty(len(t))
    out[0] = 0.0
    body = out[1:]
    np.add(y[1:], y[:-1], out=body)
    body *= dt
    gaps: list[Gap] = []
    known = None
    if breaks is not None:
        if len(breaks) != dt.size:
            raise ValueError(f"breaks has {len(breaks)} entries for {dt.size} intervals")
        known = breaks
    if unknown and dt.size:
        known = np.zeros(dt.size, dtype=np.bool_) if known is None else known.copy()
        for window in unknown:
            known |= (t[:-1] < window.end) & (t[1:] > window.start)
    if known is not None:
        body[known] = 0.0
    if dt.size and dt.max() > max_gap_seconds:
        long_gap = dt > max_gap_seconds
        body[long_gap] = 0.0  # nothing is added across a gap
        if known is not None:
            long_gap &= ~known
        gaps = [Gap(float(t[k]), float(t[k + 1])) for k in np.flatnonzero(long_gap)]
    np.cumsum(body, out=body)
    out *= 1.0 / (2.0 * SECONDS_PER_HOUR)
    out += start
    return (out[1:] if tail is not None else out), gaps


def value_at(
    ts: float,
    before: tuple[float, float, float] | None,
    after: tuple[float, float, float] | None,
    max_gap_seconds: float,
) -> float:
    """The cumulative integral at ``ts`` from the samples bracketing it, each ``(ts, rate, cumulative)``.

    Within an interval the rate is linear, so the integral from the earlier sample is exact for a linear
    rate. Before the first sample it is 0; after the last, or inside a gap, it stays at the earlier value.
    It never passes the later sample's value: across a recorded break (an outage shorter than
    ``max_gap_seconds``) the ledger added nothing, and neither does this.
    """
    if before is None:
        return 0.0
    t0, y0, c0 = before
    if after is None or ts <= t0:
        return c0
    t1, y1, c1 = after
    if t1 - t0 > max_gap_seconds or c1 <= c0:  # a gap, or an interval the ledger adds nothing across
        return c0
    frac = (ts - t0) / (t1 - t0)
    y = y0 + (y1 - y0) * frac
    return min(c0 + (ts - t0) * (y0 + y) / (2.0 * SECONDS_PER_HOUR), c1)
