"""Reading costs against history: a vial's potency curve and the vial list after a year against a day.

The code measured is what the API runs: :func:`monitor.series.potency_curve` (``GET
/api/v1/vials/{id}/potency-series``, 500 points) and :func:`monitor.assessment.assess_all` (``GET
/api/v1/vials``: each vial's potency with bounds, its time left and its verdict, from one load and one
vectorised evaluation). The sites are written by :mod:`bench.history` as the bridge and retention would
have left them (1 Hz light with door openings and a restart gap every three days, 0.1 Hz temperature,
raw readings for 90 days and minute aggregates before). Each figure's baseline is the same call on the
same kind of site after one day, so the ratio is what a year of history adds. Target: at most 1.5x.

Then the model alone: :func:`monitor.model.evaluation.evaluate` of 1,000 vials with bounds from their
loaded inputs, against one numpy pass (``np.sum``) over the year's lux ledger as the bridge computed it.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Callable
from functools import partial

import numpy as np

from bench import history
from bench.harness import Figure, figure, median_time
from monitor.assessment import assess_all
from monitor.model import evaluation
from monitor.model.profiles import Catalog, load_catalog
from monitor.model.verdict import Thresholds
from monitor.series import potency_curve
from monitor.store import Database, model_inputs
from monitor.store import vials as vial_store

THRESHOLDS = Thresholds(95.0, 90.0)


def _timed(
    catalog: Catalog, days: tuple[float, float], vials: int, what: str, count: int, repeats: int
) -> tuple[float, float]:
    """Median wall time of the call on each of two sites, the calls alternating between them so that a
    neighbour's load on a shared machine falls on both sides of the ratio alike."""
    calls: list[Callable[[], object]] = []
    conns = []
    for d in days:
        path, now = history.shared_site(catalog, d, vials)
        conn = Database(path).connect()
        conns.append(conn)
        found = vial_store.list_all(conn)
        if what == "curve":
            infusion = next(v for v in found if v.form == "dilute-infusion")
            calls.append(partial(potency_curve, conn, catalog, infusion, 500))
        else:
            calls.append(partial(assess_all, conn, catalog, found[:count], THRESHOLDS, now=now))
    try:
        for call in calls:  # warm: the first call pays for imports and a cold page cache
            call()
        times: list[list[float]] = [[], []]
        for _ in range(repeats):
            for i, call in enumerate(calls):
                times[i].append(median_time(call, 1))
        return statistics.median(times[0]), statistics.median(times[1])
    finally:
        for conn in conns:
            conn.close()


def _model_alone(conn: sqlite3.Connection, catalog: Catalog, now: float, repeats: int) -> float:
    inputs = model_inputs.load(conn, catalog, vial_store.list_all(conn), now=now)
    return median_time(lambda: evaluation.evaluate(inputs, catalog, THRESHOLDS.critical_percent), repeats)


def run(smoke: bool) -> list[Figure]:
    catalog = load_catalog()
    long_days = 2.0 if smoke else 365.0
    many = 10 if smoke else 1_000
    repeats = 1 if smoke else 15
    span = "a year" if not smoke else f"{long_days:g} days"
    figures: list[Figure] = []
    curve_long, curve_day = _timed(catalog, (long_days, 1.0), many, "curve", 1, repeats)
    figures.append(
        figure(
            f"Potency curve, 500 points, after {span} of 1 Hz history",
            curve_long,
            curve_day,
            "the same after 1 day",
            "s",
            "at most 1.5x the day; under 0.1 s",
            curve_long <= 1.5 * curve_day and curve_long < 0.1,
        )
    )
    for count in (10, many) if many > 10 else (10,):
        list_long, list_day = _timed(catalog, (long_days, 1.0), many, "list", count, repeats)
        figures.append(
            figure(
                f"Vial list with verdicts, {count} vials, after {span} of 1 Hz history",
                list_long,
                list_day,
                "the same after 1 day",
                "s",
                "at most 1.5x the day" + ("; under 0.3 s" if count >= 1_000 else ""),
                list_long <= 1.5 * list_day and (count < 1_000 or list_long < 0.3),
            )
        )
    path, now = history.shared_site(catalog, long_days, many)
    conn = Database(path).connect()
    try:
        model = _model_alone(conn, catalog, now, repeats)
    finally:
        conn.close()
    t, lux = history.light_series(int(long_days * 86_400))
    cumulative = np.cumsum(lux)  # the ledger's length and layout: one float a reading
    floor = median_time(lambda: np.sum(cumulative), repeats)
    figures.append(
        figure(
            f"Model: {many} vials with bounds and time left, from one load ({span})",
            model,
            floor,
            f"one numpy pass (np.sum) over {span}'s 1 Hz ledger ({len(t):,} readings)",
            "s",
            "reported (a curve's or a list's whole cost is above)",
            True,
        )
    )
    return figures
