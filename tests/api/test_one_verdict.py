"""One verdict everywhere: after random light and random events, every surface gives each vial the same
verdict, basis and time left: the vial list and one vial over the API, the dashboard's JSON, the vial PDF
read back as text, and `vialguard vials list --json` run as a pharmacist runs it.

The command line stamps its verdicts with the instant they hold at (``verdict_at``); the server's clock is
then set to that instant, so the countdown to a label deadline is compared to the second, not roughly.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import tomllib
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.model.profiles import Catalog
from monitor.store import Database
from tests.api.conftest import Served
from tests.api.test_reports import pdf_text

HOURS = 3
# A second location without sensors: what it can do to a vial is bounded by its worst case alone.
BENCH = """
[[locations]]
key = "bench"
name = "Preparation bench"
kind = "room"
worst_case_lux = 1000.0
"""
# What a surface shows of a verdict (the deadline's own format differs between JSON and text).
COMPARED = ("verdict", "label", "colour", "basis", "basis_percent", "hours_left", "limited_by", "time_left")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    path = tmp_path / "site.toml"
    path.write_text(text.replace("\n[simulation]", BENCH + "\n[simulation]", 1), encoding="utf-8")
    return path


@pytest.fixture
def settings(config: Path, tmp_path: Path) -> Settings:
    raw = tomllib.loads(config.read_text(encoding="utf-8"))
    return parse_settings(raw, str(config), {"db_path": tmp_path / "vialguard.db"})


@pytest.fixture
def clock() -> ManualClock:
    """Real time, a few hours back: the command line reads the real clock."""
    return ManualClock(wall=time.time() - HOURS * 3600.0)


def _feed(database: Database, catalog: Catalog, settings: Settings, t0: float, rng: random.Random) -> None:
    """Random door openings at 1 Hz light, a random warm spell, and a sensor silent for a while."""
    doors = [(rng.uniform(0, HOURS * 3600 - 900), rng.uniform(10, 900), rng.uniform(50, 2000)) for _ in "abc"]
    silent = rng.uniform(0, HOURS * 3600 - 600)
    warm = rng.uniform(0, HOURS * 3600 - 1800)
    conn = database.connect()
    try:
        engine = Engine(conn, catalog, default_rules(settings.rules.thresholds()))
        for start in range(0, HOURS * 3600, 300):
            light, temperature = [], []
            for s in range(start, start + 300):
                if silent <= s < silent + 400:
                    continue  # a gap the bounds must cover
                lux = max((x for a, d, x in doors if a <= s < a + d), default=0.0)
                light.append(LightReading("fridge-1-lux", t0 + s, lux))
                if s % 10 == 0:
                    celsius = 11.0 if warm <= s < warm + 1800 else 5.0
                    temperature.append(TemperatureReading("fridge-1-temp", t0 + s, celsius))
            engine.ingest(Batch(light=light, temperature=temperature), t0 + start + 300)
    finally:
        conn.close()


def _events(served: Served, catalog: Catalog, t0: float, rng: random.Random) -> None:
    """Each vial gets a few random events at random past times, recorded through the API."""
    packaging = sorted(catalog.packaging)
    for vial in served.client.get("/api/v1/vials").json():
        times = sorted(t0 + rng.uniform(60, HOURS * 3600 - 60) for _ in range(rng.randint(0, 4)))
        reconstituted = False
        for i, ts in enumerate(times):
            kinds = ["moved", "packaging-changed"] + ([] if reconstituted else ["reconstituted"])
            if i == len(times) - 1:
                kinds += ["administered", "discarded"]
            kind = rng.choice(kinds)
            body: dict[str, Any] = {"kind": kind, "at": datetime.fromtimestamp(ts).astimezone().isoformat()}
            if kind == "moved":
                body["location"] = rng.choice(["fridge-1", "bench"])
            elif kind == "packaging-changed":
                body["packaging"] = rng.choice(packaging)
            reconstituted |= kind == "reconstituted"
            r = served.writer.post(f"/api/v1/vials/{vial['id']}/events", json=body)
            assert r.status_code == 201, r.text


def _cli(config: Path, db: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vialguard",
            "vials",
            "list",
            "--json",
            "--config",
            str(config),
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def _shown(verdict: dict[str, Any], *, against: bool = True) -> dict[str, Any]:
    """What a surface shows of a verdict. The hours are rounded to 4 places, and the command line's instant
    comes back through its ISO stamp to the microsecond: a last digit may round either way (1e-4 h is
    0.36 s), so the hours are compared to that, the words and all else exactly. ``against=False``: the
    reference the others are compared with."""
    shown = {k: verdict[k] for k in COMPARED}
    if against and shown["hours_left"] is not None:
        shown["hours_left"] = pytest.approx(shown["hours_left"], abs=2e-4)
    return shown


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_surface_gives_the_same_verdict_and_time_left(
    served: Served, catalog: Catalog, config: Path, tmp_path: Path, seed: int
) -> None:
    """API list, API detail, dashboard, PDF and command line agree on every vial, whatever happened."""
    rng = random.Random(seed)
    t0 = served.clock.wall()
    _feed(served.database, catalog, served.settings, t0, rng)
    served.clock.advance(time.time() - served.clock.wall())  # events are recorded at real "now"
    _events(served, catalog, t0, rng)

    rows = {r["key"]: r for r in _cli(config, served.settings.db_path)}
    at = datetime.fromisoformat(next(iter(rows.values()))["verdict_at"]).timestamp()
    assert {r["verdict_at"] for r in rows.values()} == {next(iter(rows.values()))["verdict_at"]}
    served.clock.advance(at - served.clock.wall())  # the server judges at the command line's instant

    listed = {v["key"]: v for v in served.client.get("/api/v1/vials").json()}
    dashboard = {g["vial"]["key"]: g for g in served.client.get("/api/v1/dashboard").json()["vials"]}
    assert listed.keys() == rows.keys()
    verdicts = set()
    for key, vial in listed.items():
        shown = _shown(vial["verdict"], against=False)
        verdicts.add(shown["verdict"])
        assert _shown(rows[key]["verdict"]) == shown, f"{key}: command line and API disagree"
        one = served.client.get(f"/api/v1/vials/{vial['id']}").json()
        assert _shown(one["verdict"]) == shown, f"{key}: the vial and the list disagree"
        if vial["status"] == "active":
            glance = dashboard[key]
            assert _shown(glance["vial"]["verdict"]) == shown, f"{key}: the dashboard disagrees"
            assert glance["status"] == shown["colour"]
            assert glance["status_basis"] == shown["basis"] == "low bound"
        else:
            assert key not in dashboard
        pdf = served.client.get(f"/api/v1/reports/vials/{vial['id']}.pdf")
        words = " ".join(pdf_text(pdf.content, tmp_path, f"{seed}-{key}").split())
        assert f"Verdict {shown['label']}" in words, f"{key}: the PDF's verdict differs"
        assert f"Time left {shown['time_left']}" in words, f"{key}: the PDF's time left differs"
        # The words stay true beside the verdict.
        if shown["verdict"] == "do-not-use" and vial["status"] == "active":
            assert shown["time_left"].startswith("reached")
        assert "inf" not in shown["time_left"]
        assert "more than a year" not in shown["time_left"] or shown["verdict"] != "do-not-use"
    assert verdicts, "no vial was judged"
