"""Ledger: integrating a year of 1 Hz readings into the cumulative dose, as ingest and ``db check`` do.

The code measured is :func:`monitor.model.ledger.integrate`, which the engine runs on every batch and the
database check on the whole history. Baselines in the same run: a single numpy pass over the same lux array
(``np.sum``: the memory-bandwidth floor), one ``np.cumsum`` over it (the floor of any running total: it
writes an output per reading, each depending on the one before, so it cannot run at a reduction's speed;
on this machine it alone is several times ``np.sum``), and a straightforward per-reading Python loop
(measured on a 7-day slice and scaled linearly to the year, since a year of it takes minutes). A vial's
potency from the stored ledger is measured on the real path by ``bench_potency``.
"""

from __future__ import annotations

import numpy as np

from bench.harness import Figure, figure, median_time
from monitor.model import ledger

YEAR_SECONDS = 365 * 86_400


def workload(seconds: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    t = np.arange(0.0, float(seconds))
    lux = np.zeros(seconds)
    # ~10 door openings a day of 10-90 s at 300-1000 lx, the simulated fridge's pattern.
    for start in rng.integers(0, seconds - 100, max(seconds // 8640, 1)):
        lux[start : start + rng.integers(10, 90)] = rng.uniform(300, 1000)
    return t, lux


def python_loop(t: np.ndarray, lux: np.ndarray) -> list[float]:
    """The obvious code: walk every reading and add its trapezoid to a running total."""
    ts, ys = t.tolist(), lux.tolist()
    out = [0.0]
    for i in range(1, len(ts)):
        out.append(out[-1] + (ys[i] + ys[i - 1]) * (ts[i] - ts[i - 1]) / 7200.0)
    return out


def run(smoke: bool) -> list[Figure]:
    seconds = 86_400 if smoke else YEAR_SECONDS
    repeats = 1 if smoke else 3
    t, lux = workload(seconds)
    ours = median_time(lambda: ledger.integrate(None, t, lux, 3.0), repeats)
    floor = median_time(lambda: np.sum(lux), repeats)
    running = median_time(lambda: np.cumsum(lux), repeats)
    slice_seconds = 3_600 if smoke else 7 * 86_400
    ts, ys = workload(slice_seconds)
    loop = median_time(lambda: python_loop(ts, ys), 1) * (seconds / slice_seconds)
    label = "a day" if smoke else "a year"
    return [
        figure(
            f"Ledger: integrate {label} of 1 Hz readings",
            ours,
            floor,
            "one numpy pass (np.sum)",
            "s",
            "within 3x of the floor",
            ours <= 3 * floor,
        ),
        figure(
            f"Ledger: integrate {label} of 1 Hz readings, against a running total's floor",
            ours,
            running,
            "one np.cumsum over the same readings",
            "s",
            "within 3x of the floor",
            ours <= 3 * running,
        ),
        figure(
            f"Ledger vs per-reading Python loop ({label})",
            ours,
            loop,
            "Python loop, scaled from a slice",
            "s",
            "well under 1 s; far below the loop",
            ours < 1.0 and ours < loop,
        ),
    ]
