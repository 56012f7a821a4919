"""Model: a year of 1 Hz readings at one location, 1,000 vials with 5 events each.

vialguard, two ways: evaluating every vial over the stored cumulative ledger (the live path: ingest keeps
the ledger with the readings), and rebuilding the year's ledger from raw readings first (a full
recomputation, as a database check does), both with :func:`monitor.fleet.potencies`. Baselines in the
same run: a single numpy pass over the same lux array
(``np.sum``: the memory-bandwidth floor) and a straightforward per-reading Python loop (measured on a
7-day slice and scaled linearly to the year, since a year of it takes minutes).
"""

from __future__ import annotations

import math

import numpy as np

from bench.harness import Figure, figure, median_time
from monitor import fleet, ledger

YEAR_SECONDS = 365 * 86_400
VIALS = 1_000
EVENTS = 5


def workload(seconds: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    t = np.arange(0.0, float(seconds))
    lux = np.zeros(seconds)
    # ~10 door openings a day of 10-90 s at 300-1000 lx, the simulated fridge's pattern.
    for start in rng.integers(0, seconds - 100, max(seconds // 8640, 1)):
        lux[start : start + rng.integers(10, 90)] = rng.uniform(300, 1000)
    edges = np.sort(rng.uniform(0, seconds - 1, (VIALS, EVENTS + 1)), axis=1)
    tau = rng.choice([0.0, 0.3, 0.9, 1.0], (VIALS, EVENTS))
    return t, lux, edges, tau


def python_loop(t: np.ndarray, lux: np.ndarray, edges: np.ndarray, tau: np.ndarray) -> list[float]:
    """The obvious code: walk every reading, and for each vial add the dose of the segment it is in."""
    ts, ys = t.tolist(), lux.tolist()
    bounds, taus = edges.tolist(), tau.tolist()
    effective = [0.0] * len(bounds)
    for i in range(1, len(ts)):
        mid = (ts[i] + ts[i - 1]) / 2
        dose = (ys[i] + ys[i - 1]) * (ts[i] - ts[i - 1]) / 7200.0
        if dose == 0.0:
            continue
        for v, b in enumerate(bounds):
            if b[0] <= mid < b[-1]:
                s = next(k for k in range(len(b) - 1) if b[k] <= mid < b[k + 1])
                effective[v] += taus[v][s] * dose
    return [100.0 * math.exp(-1.456e-3 * e) for e in effective]


def run(smoke: bool) -> list[Figure]:
    seconds = 86_400 if smoke else YEAR_SECONDS
    repeats = 1 if smoke else 3
    t, lux, edges, tau = workload(seconds)
    k = np.full(VIALS, 1.456e-3)
    f0 = np.full(VIALS, 100.0)

    def recompute() -> None:
        cum, _ = ledger.integrate(None, t, lux, 3.0)
        fleet.potencies(t, cum, edges, tau, k, f0)

    cum, _ = ledger.integrate(None, t, lux, 3.0)
    live = median_time(lambda: fleet.potencies(t, cum, edges, tau, k, f0), repeats)
    ours = median_time(recompute, repeats)
    floor = median_time(lambda: np.sum(lux), repeats)
    slice_seconds = 3_600 if smoke else 7 * 86_400
    ts, ys, es, taus = workload(slice_seconds)
    loop = median_time(lambda: python_loop(ts, ys, es, taus), 1) * (seconds / slice_seconds)
    label = "a day" if smoke else "a year"
    return [
        figure(
            f"Model: {VIALS} vials x {EVENTS} events over {label}'s stored ledger",
            live,
            floor,
            "one numpy pass (np.sum)",
            "s",
            "within 3x of the floor",
            live <= 3 * floor,
        ),
        figure(
            f"Model: rebuild {label}'s ledger from 1 Hz readings + {VIALS} vials",
            ours,
            floor,
            "one numpy pass (np.sum)",
            "s",
            "within 3x of the floor",
            ours <= 3 * floor,
        ),
        figure(
            f"Model vs per-reading Python loop ({label})",
            ours,
            loop,
            "Python loop, scaled from a slice",
            "s",
            "well under 1 s; far below the loop",
            ours < 1.0 and ours < loop,
        ),
    ]
