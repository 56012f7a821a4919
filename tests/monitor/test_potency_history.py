"""A vial's potency curve from one load equals the potency evaluated afresh at each of its times.

Random light (door openings, saturated readings, a silent sensor), heat, moves to a location without
sensors (with and without a worst case), packaging changes and retention: at every time the curve's best,
low and high and its effective dose are those of :func:`monitor.exposure.vial_potency` with ``as_of``.
"""

from __future__ import annotations

import random
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.exposure import vial_potency
from monitor.model.profiles import Catalog
from monitor.potency_history import potency_at
from monitor.site_sync import sync_site
from monitor.store import Database, retention, sites
from monitor.store import vials as vial_store
from monitor.store.database import transaction

HOURS = 6
BENCH = """
[[locations]]
key = "bench"
name = "Preparation bench"
kind = "room"
{worst}
"""


def _settings(tmp_path: Path, worst: str) -> Settings:
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    text = text.replace("\n[simulation]", BENCH.format(worst=worst) + "\n[simulation]", 1)
    return parse_settings(tomllib.loads(text), "site.toml", {"db_path": tmp_path / "v.db"})


def _history(settings: Settings, catalog: Catalog, t0: float, rng: random.Random) -> None:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, t0)
    doors = [
        (rng.uniform(0, HOURS * 3600 - 900), rng.uniform(10, 900), rng.uniform(50, 3000)) for _ in "abcd"
    ]
    silent = rng.uniform(600, HOURS * 3600 - 1200)
    engine = Engine(conn, catalog, default_rules(settings.rules.thresholds()))
    for start in range(0, HOURS * 3600, 600):
        light, temperature = [], []
        for s in range(start, start + 600):
            if silent <= s < silent + 700:
                continue
            lux = max((x for a, d, x in doors if a <= s < a + d), default=0.0)
            light.append(LightReading("fridge-1-lux", t0 + s, lux, saturated=lux > 2000))
            if s % 10 == 0:
                temperature.append(TemperatureReading("fridge-1-temp", t0 + s, 5.0 + 6.0 * (lux > 0)))
        engine.ingest(Batch(light=light, temperature=temperature), t0 + start + 600)
    bench = sites.location_by_key(conn, "bench").id
    packaging = sorted(catalog.packaging)
    with transaction(conn):
        for vial in vial_store.list_all(conn):
            for ts in sorted(t0 + rng.uniform(0, HOURS * 3600) for _ in range(rng.randint(0, 3))):
                moved = rng.random() < 0.5
                vial_store.add_event(
                    conn,
                    vial_id=vial.id,
                    ts=ts,
                    kind="moved" if moved else "packaging-changed",
                    location_id=rng.choice([bench, sites.location_by_key(conn, "fridge-1").id])
                    if moved
                    else None,
                    packaging=None if moved else rng.choice(packaging),
                    detail="",
                    recorded_ts=ts,
                )
    retention.downsample(conn, t0 + rng.uniform(0, HOURS * 3600))
    conn.commit()
    conn.close()


@pytest.mark.parametrize("seed", range(6))
def test_curve_equals_the_potency_at_each_time(
    tmp_path: Path, catalog: Catalog, clock: ManualClock, seed: int
) -> None:
    """Best, low, high and effective dose at each of 40 random times: the same as evaluated afresh."""
    rng = random.Random(seed)
    settings = _settings(tmp_path, "" if seed % 2 else "worst_case_lux = 1500.0")
    t0 = clock.wall()
    _history(settings, catalog, t0, rng)
    conn = Database(settings.db_path).connect()
    times = np.array(sorted(t0 + rng.uniform(-60, HOURS * 3600 + 60) for _ in range(40)))
    for vial in vial_store.list_all(conn):
        curve = potency_at(conn, catalog, vial, times)
        assert [p.ts for p in curve] == times.tolist()
        for point in curve:
            fresh = vial_potency(conn, catalog, vial, as_of=point.ts)
            got = (point.percent.best, point.percent.low, point.percent.high)
            want = (fresh.percent_range.best, fresh.percent_range.low, fresh.percent_range.high)
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (vial.key, point.ts - t0)
            dose = point.effective_lux_hours
            fresh_dose = fresh.effective_lux_hours_range
            assert (dose.best, dose.low, dose.high) == pytest.approx(
                (fresh_dose.best, fresh_dose.low, fresh_dose.high), rel=1e-9, abs=1e-12
            )
    conn.close()
