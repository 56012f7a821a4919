"""One load and one vectorised pass give the potency the store, read afresh at each time, gives.

Random sites: 1 Hz light with door openings and saturated readings, a silent sensor, warm spells, a
spectral (AS7341) or UV (LTR390) sensor, vials moved to a location without sensors (with and without a
worst case), packaging changed, reconstituted, administered; drugs with the ledger's activation energy,
another one and a light activation energy; minutes aggregated past retention. At each of 40 random times
the curve's best, low and high and its effective dose are the slow per-time reference's
(``tests.monitor.potency_reference``); as of the data with a later wall clock, so are the bounds with a
silent sensor's stretch, the time left, the label deadline and the words for what widened the bounds.
"""

from __future__ import annotations

import math
import random
import sqlite3
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hardware.chips import as7341 as chip
from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.model import evaluation
from monitor.model.profiles import Catalog, load_catalog
from monitor.model.spectral import AS7341, SpectralCounts
from monitor.site_sync import sync_site
from monitor.store import Database, model_inputs, retention, sites
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from tests.monitor.potency_reference.exposure import vial_potency

HOURS = 6
BENCH = """
[[locations]]
key = "bench"
name = "Preparation bench"
kind = "room"
{worst}
"""
# Two profiles beside the shipped one: an activation energy the thermal ledger does not hold, and a
# temperature factor on photolysis (§7's optional g(T)).
PROFILES = """
[drugs.hot]
name = "hot"
{constants}
[drugs.hot.activation_energy_kj_per_mol]
value = 60.0
provenance = "assumed"
source = "test"
low = 50.0
high = 70.0
[drugs.hot.forms.thin]
description = "thin"
concentration_mg_per_ml = {{ value = 0.002, provenance = "assumed", source = "test" }}
path_cm = {{ value = 1.0, provenance = "assumed", source = "test" }}

[drugs.warm]
name = "warm"
{constants}
activation_energy_kj_per_mol = {{ value = {ea!r}, provenance = "assumed", source = "test" }}
light_activation_energy_kj_per_mol = {{ value = 50.0, provenance = "assumed", source = "test" }}
[drugs.warm.forms.thin]
description = "thin"
concentration_mg_per_ml = {{ value = 0.002, provenance = "assumed", source = "test" }}
path_cm = {{ value = 1.0, provenance = "assumed", source = "test" }}
"""


def _profiles(tmp_path: Path) -> Path:
    shipped = load_catalog().drug("mecobalamin")
    constants = "\n".join(
        f'{name} = {{ value = {c.value!r}, provenance = "assumed", source = "test" }}'
        for name, c in (
            ("k_thin_per_lux_hour", shipped.k_thin_per_lux_hour),
            ("epsilon_per_molar_cm", shipped.epsilon_per_molar_cm),
            ("molar_mass_g_per_mol", shipped.molar_mass_g_per_mol),
            ("k_ref_per_hour", shipped.k_ref_per_hour),
            ("t_ref_kelvin", shipped.t_ref_kelvin),
        )
    )
    path = tmp_path / "profiles.toml"
    ea = shipped.activation_energy_kj_per_mol.value
    path.write_text(PROFILES.format(constants=constants, ea=ea), encoding="utf-8")
    return path


def _settings(tmp_path: Path, seed: int) -> Settings:
    raw = tomllib.loads(resources.files("vialguard").joinpath("data/simulated.toml").read_text("utf-8"))
    worst = "" if seed % 2 else "worst_case_lux = 1500.0"
    raw["locations"] += tomllib.loads(BENCH.format(worst=worst))["locations"]
    chip_name = ("as7341", "ltr390", None)[seed % 3]
    if chip_name is not None:
        raw["sensors"].append(
            {"key": "fridge-1-chip", "location": "fridge-1", "quantity": "light", "driver": chip_name}
        )
    raw["drug_profiles_file"] = str(_profiles(tmp_path))
    raw["vials"] += [
        {"key": f"{d}-1", "drug": d, "form": "thin", "lot": "L", "location": "fridge-1", "packaging": p}
        for d, p in (("hot", "infusion-container"), ("warm", "clear-glass"))
    ]
    return parse_settings(raw, "site.toml", {"db_path": tmp_path / "v.db"})


def _chip_reading(driver: str, lux: float, daylight: float) -> SpectralCounts:
    if driver == "ltr390":
        return SpectralCounts("ltr390", ("uvs",), (100,), 18.0, 400.0, False, daylight * 0.00036 * lux)
    signal = chip.photodiode_signals(lux, "incandescent" if daylight < 0.5 else "led-6500k")
    counts = tuple(round(1000.0 * signal[ch.name[:2]]) for ch in chip.FILTERS)
    return SpectralCounts("as7341", (*AS7341.channels, "clear", "NIR_910"), (*counts, 0, 0), 128.0, 280.78)


def _history(settings: Settings, catalog: Catalog, t0: float, rng: random.Random) -> None:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, t0)
    doors = [
        (rng.uniform(0, HOURS * 3600 - 900), rng.uniform(10, 900), rng.uniform(50, 3000), rng.random())
        for _ in "abcde"
    ]
    warm = [(rng.uniform(0, HOURS * 3600 - 1800), rng.uniform(300, 1800)) for _ in "ab"]
    silent = rng.uniform(600, HOURS * 3600 - 1200)
    driver = next((s.driver for s in settings.sensors if s.key == "fridge-1-chip"), None)
    engine = Engine(conn, catalog, default_rules(settings.rules.thresholds()))
    for start in range(0, HOURS * 3600, 600):
        light, temperature = [], []
        for s in range(start, start + 600):
            if silent <= s < silent + 700:
                continue
            door = next(((x, day) for a, d, x, day in doors if a <= s < a + d), (0.0, 0.0))
            lux = door[0]
            light.append(LightReading("fridge-1-lux", t0 + s, lux, saturated=lux > 2000))
            if driver is not None and s % 5 == 0 and not (lux > 0 and s % 7 == 0):
                spectrum = _chip_reading(driver, lux, door[1])
                light.append(LightReading("fridge-1-chip", t0 + s, lux, spectrum=spectrum))
            if s % 10 == 0:
                hot = any(a <= s < a + d for a, d in warm)
                temperature.append(TemperatureReading("fridge-1-temp", t0 + s, 5.0 + 20.0 * hot + (lux > 0)))
        engine.ingest(Batch(light=light, temperature=temperature), t0 + start + 600)
    bench = sites.location_by_key(conn, "bench").id
    fridge = sites.location_by_key(conn, "fridge-1").id
    packaging = sorted(catalog.packaging)
    with transaction(conn):
        for vial in vial_store.list_all(conn):
            for ts in sorted(t0 + rng.uniform(0, HOURS * 3600) for _ in range(rng.randint(0, 4))):
                kind = rng.choice(["moved", "packaging-changed", "reconstituted"])
                vial_store.add_event(
                    conn,
                    vial_id=vial.id,
                    ts=ts,
                    kind=kind,
                    location_id=rng.choice([bench, fridge]) if kind == "moved" else None,
                    packaging=rng.choice(packaging) if kind != "moved" else None,
                    detail="",
                    recorded_ts=ts,
                )
            if rng.random() < 0.2:
                end = t0 + rng.uniform(HOURS * 1800, HOURS * 3600)
                vial_store.add_event(
                    conn,
                    vial_id=vial.id,
                    ts=end,
                    kind=rng.choice(["administered", "discarded"]),
                    location_id=None,
                    packaging=None,
                    detail="",
                    recorded_ts=end,
                )
    retention.downsample(conn, t0 + rng.uniform(0, HOURS * 3600))
    conn.commit()
    conn.close()


def _close(got: tuple[float, ...], want: tuple[float, ...]) -> bool:
    return got == pytest.approx(want, rel=1e-9, abs=1e-9)


# A seed's site is built once for the three tests that read it (the tests only read; each starts from the
# random state the history left, as when every test built its own).
@pytest.fixture(scope="module", params=range(6), ids=lambda s: f"seed{s}")
def built_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[sqlite3.Connection, Catalog, float, tuple[Any, ...]]]:
    seed: int = request.param
    rng = random.Random(seed)
    settings = _settings(tmp_path_factory.mktemp(f"seed{seed}"), seed)
    catalog = load_catalog(settings.drug_profiles_file)
    t0 = ManualClock().wall()
    _history(settings, catalog, t0, rng)
    conn = Database(settings.db_path).connect()
    yield conn, catalog, t0, rng.getstate()
    conn.close()


@pytest.fixture
def site(
    built_site: tuple[sqlite3.Connection, Catalog, float, tuple[Any, ...]],
) -> tuple[sqlite3.Connection, Catalog, float, random.Random]:
    conn, catalog, t0, state = built_site
    rng = random.Random()
    rng.setstate(state)
    return conn, catalog, t0, rng


@pytest.mark.parametrize("top_hours", [64, 1], ids=["top-hours-cover", "windows-read-alone"])
def test_curve_equals_the_reference_at_each_time(
    site: tuple[sqlite3.Connection, Catalog, float, random.Random],
    top_hours: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Best, low, high and effective dose at each of 40 random times: the reference's at that time,
    whether the sensor's highest hours bound every window or windows are read on their own."""
    monkeypatch.setattr(model_inputs, "_TOP_HOURS", top_hours)
    conn, catalog, t0, rng = site
    times = np.array(sorted(t0 + rng.uniform(-60, HOURS * 3600 + 60) for _ in range(40)))
    for vial in vial_store.list_all(conn):
        inputs = model_inputs.load(conn, catalog, [vial], times=times)
        series = evaluation.evaluate_one(inputs, catalog, 90.0).series
        for i, ts in enumerate(times.tolist()):
            want = vial_potency(conn, catalog, vial, as_of=ts)
            r, d = want.percent_range, want.effective_lux_hours_range
            got_p, got_d = series.percent(i), series.effective_lux_hours(i)
            assert _close((got_p.best, got_p.low, got_p.high), (r.best, r.low, r.high)), (vial.key, ts - t0)
            assert _close((got_d.best, got_d.low, got_d.high), (d.best, d.low, d.high)), (vial.key, ts - t0)


def test_current_potency_equals_the_reference(
    site: tuple[sqlite3.Connection, Catalog, float, random.Random],
) -> None:
    """As of the data with a later clock, for all vials in one load: bounds (a silent stretch included),
    the time left, the label deadline, where the vial is and the words, as the reference gives them."""
    conn, catalog, t0, rng = site
    now = t0 + HOURS * 3600 + rng.uniform(0, 3600)
    vials = vial_store.list_all(conn)
    got = evaluation.evaluate(model_inputs.load(conn, catalog, vials, now=now), catalog, 90.0)
    for vial, g in zip(vials, got, strict=True):
        want = vial_potency(conn, catalog, vial, now=now)
        r, d = want.percent_range, want.effective_lux_hours_range
        assert g.as_of == want.as_of
        assert _close((g.percent.best, g.percent.low, g.percent.high), (r.best, r.low, r.high)), vial.key
        assert _close(
            (g.effective_lux_hours.best, g.effective_lux_hours.low, g.effective_lux_hours.high),
            (d.best, d.low, d.high),
        ), vial.key
        assert (g.location_id, g.packaging, g.lamp, g.reconstituted_ts) == (
            want.location_id,
            want.packaging,
            want.lamp,
            want.reconstituted_ts,
        )
        assert g.uncertainty == want.uncertainty
        if want.time_to_threshold is None:
            assert g.time_to_threshold is None
            continue
        w, t = want.time_to_threshold, g.time_to_threshold
        assert t is not None
        assert (t.label_deadline_ts, t.limited_by) == (w.label_deadline_ts, w.limited_by)
        for a, b in ((t.hours, w.hours), (t.hours_best, w.hours_best), (t.hours_low, w.hours_low)):
            assert (math.isinf(a) and math.isinf(b)) or a == pytest.approx(b, rel=1e-9), vial.key
