"""Reading costs against history: a vial's potency curve and the vial list after a month against a day.

The code measured is what the API runs: :func:`monitor.series.potency_curve` (``GET
/api/v1/vials/{id}/potency-series``) and :func:`monitor.assessment.assess_all` (``GET /api/v1/vials``,
each vial's potency with bounds and its verdict). The history is written as the bridge writes it, through
:class:`monitor.engine.Engine` (1 Hz light with door openings and a restart gap every three days, 0.1 Hz
temperature), into a SQLite file; each figure's baseline is the same call on the same site after one day,
so the ratio is what a month of history adds. Target: at most 1.5x.
"""

from __future__ import annotations

import math
import tempfile
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np

from bench.harness import Figure, figure, median_time
from monitor.assessment import assess_all
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import parse_settings
from monitor.engine import Engine
from monitor.model.profiles import Catalog, load_catalog
from monitor.model.verdict import Thresholds
from monitor.series import potency_curve
from monitor.site_sync import sync_site
from monitor.store import Database, sites
from monitor.store import vials as vial_store
from monitor.store.database import transaction

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
FORMS = (
    ("rozebalamin-25mg", "in-carton"),
    ("rozebalamin-25mg", "light-protected-vial"),
    ("methycobal-500ug-ampoule", "amber-glass"),
    ("dilute-infusion", "infusion-container"),
)
THRESHOLDS = Thresholds(95.0, 90.0)


def build(path: Path, catalog: Catalog, days: float, vials: int) -> float:
    """A site with ``days`` of history and ``vials`` vials registered at its start; returns its end."""
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    settings = parse_settings(tomllib.loads(text), "simulated.toml", {"db_path": path})
    db = Database(path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, T0)
    fridge = sites.location_by_key(conn, "fridge-1").id
    with transaction(conn):
        for i in range(vials):
            form, packaging = FORMS[i % len(FORMS)]
            vial_store.register(
                conn,
                key=f"bench-{i:04d}",
                drug="mecobalamin",
                form=form,
                lot="BENCH",
                expiry=None,
                initial_potency_percent=100.0,
                location_id=fridge,
                packaging=packaging,
                ts=T0 + 10.0,
                recorded_ts=T0 + 10.0,
            )
    seconds = int(days * 86_400)
    rng = np.random.default_rng(1)
    lux = np.zeros(seconds)
    for start in rng.integers(0, seconds - 100, max(int(days * 10), 1)):  # ~10 door openings a day
        lux[start : start + rng.integers(10, 90)] = rng.uniform(300, 1000)
    engine = Engine(conn, catalog, ())  # the readings' path alone: rules are not what is measured here
    for start in range(0, seconds, 3600):
        end = min(start + 3600, seconds)
        light = [
            LightReading("fridge-1-lux", T0 + 100 + k, float(lux[k]))
            for k in range(start, end)
            if k % 259_200 >= 30  # the bridge restarted every three days: a 30 s gap
        ]
        temperature = [
            TemperatureReading("fridge-1-temp", T0 + 100 + k, 5.0 + 0.5 * math.sin(k / 3600))
            for k in range(start, end, 10)
        ]
        engine.ingest(Batch(light=light, temperature=temperature), T0 + 100 + end)
    conn.close()
    return T0 + 100 + seconds


def run(smoke: bool) -> list[Figure]:
    catalog = load_catalog()
    long_days = 2.0 if smoke else 30.0
    many = 10 if smoke else 1_000
    repeats = 1 if smoke else 5
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="vialguard-bench-") as tmp:
        sites_by_days = {}
        for days in (1.0, long_days):
            path = Path(tmp) / f"{days:g}d.db"
            sites_by_days[days] = (path, build(path, catalog, days, many))

        def timed(days: float, what: str, count: int) -> float:
            path, now = sites_by_days[days]
            conn = Database(path).connect()
            try:
                all_vials = vial_store.list_all(conn)
                if what == "curve":
                    infusion = next(v for v in all_vials if v.form == "dilute-infusion")
                    return median_time(lambda: potency_curve(conn, catalog, infusion, 500), repeats)
                chosen = all_vials[:count]
                return median_time(lambda: assess_all(conn, catalog, chosen, THRESHOLDS, now=now), repeats)
            finally:
                conn.close()

        span = f"{long_days:g} days"
        curve_long, curve_day = timed(long_days, "curve", 1), timed(1.0, "curve", 1)
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
            list_long, list_day = timed(long_days, "list", count), timed(1.0, "list", count)
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
    return figures
