"""Central answers for every vial what its site answers: the same verdict, time left, basis and potency
best, low and high, computed at central by the same model code from central's copy of the site's data.

One running system for the module: a simulated site with an hour of history (a door left open, a vial
moved to a room without sensors, one administered, one received from another site half an hour into
it) served by its own API, uplinking over a private Mosquitto to central on a private PostgreSQL.
"""

from __future__ import annotations

import re
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from fleet.engines.mosquitto import PrivateMosquitto
from fleet.engines.postgres import PrivatePostgres
from hardware.clock import ManualClock
from monitor.config import Settings, load_settings, parse_settings
from monitor.config.simulation import ScenarioConfig
from monitor.model.profiles import Catalog
from monitor.model.verdict import LABELS, VERDICTS
from monitor.store import Database, outbox
from monitor.store.database import transaction
from tests.api.conftest import Served, serve
from tests.api.test_api import feed_light
from tests.conftest import simulated_raw
from tests.fleet.fleet_system import (
    Central,
    create_database,
    drop_database,
    site_config,
    site_count,
    stop,
    vialguard,
    wait_for,
)
from tests.monitor.test_engine import run_simulation

pytestmark = pytest.mark.slow

SITE = "ward-3"
HOUR = 3600.0
# A room without sensors: its light is bounded by the worst case configured, under a known lamp.
PREP_ROOM = """
[[locations]]
key = "prep-room"
name = "Preparation room"
kind = "room"
lamp = "led-4000k"
worst_case_lux = 500.0
"""


def _sending_site(directory: Path) -> Settings:
    """Another site holding one infusion bag, under a key of its own (keys are the organisation's)."""
    raw = simulated_raw()
    raw["site_name"] = "site-a"
    raw["vials"] = [dict(v, key="infusion-9001") for v in raw["vials"] if v["key"] == "infusion-0001"]
    return parse_settings(raw, "site-a.toml", {"db_path": directory / "site-a.db"})


def _handed_over(directory: Path, catalog: Catalog, start: float) -> dict[str, Any]:
    """The document of a bag that spent half an hour at 800 lx at the other site, handed to this one."""
    clock = ManualClock(start)
    with serve(_sending_site(directory), clock) as other:
        feed_light(other, catalog, 1800, 800.0)
        r = other.writer.post("/api/v1/vials/infusion-9001/hand-over", json={"to_site": SITE})
        assert r.status_code == 201, r.text
        document: dict[str, Any] = r.json()["document"]
    return document


@dataclass
class System:
    site: Served
    central: Central
    database_url: str
    db: Path


@pytest.fixture(scope="module")
def system(postgres_cluster: PrivatePostgres, catalog: Catalog) -> Iterator[System]:
    directory = Path(tempfile.mkdtemp(prefix="vialguard-verdicts-"))
    broker = PrivateMosquitto(directory / "mosquitto")
    broker.start()
    name = "t_fleet_verdicts"
    url = create_database(postgres_cluster, name)
    config = site_config(directory, SITE, broker.url, fleet_extra=PREP_ROOM)
    settings = load_settings(config)
    scenarios = [
        ScenarioConfig(kind="door-left-open", start_after_seconds=600, duration_seconds=1200, lux=600),
        ScenarioConfig(
            kind="sensor-dropout", start_after_seconds=2000, duration_seconds=300, sensor="fridge-1-lux"
        ),
        ScenarioConfig(kind="light-stuck-on", start_after_seconds=2700, duration_seconds=120, lux=100_000),
    ]
    simulation = settings.simulation.model_copy(update={"scenarios": scenarios, "openings_per_day": 0.0})
    settings = settings.model_copy(update={"simulation": simulation})
    clock = ManualClock()
    document = _handed_over(directory, catalog, clock.wall())
    run_simulation(settings, catalog, clock, HOUR).close()
    central = Central(url, broker.url, directory)
    uplink = None
    try:
        with serve(settings, clock) as site:
            vials = {v["key"]: v["id"] for v in site.client.get("/api/v1/vials").json()}
            moved = site.writer.post(
                f"/api/v1/vials/{vials['roze-0002']}/events",
                json={"kind": "moved", "at": _iso(clock.wall() - 1500), "location": "prep-room"},
            )
            assert moved.status_code == 201, moved.text
            done = site.writer.post(
                f"/api/v1/vials/{vials['methy-0001']}/events",
                json={"kind": "administered", "at": _iso(clock.wall() - 300)},
            )
            assert done.status_code == 201, done.text
            # Received from its hand-over time on: the rest of the hour (the light stuck on included).
            received = site.writer.post(
                "/api/v1/vials/receive", json={"document": document, "location": "fridge-1"}
            )
            assert received.status_code == 201, received.text
            conn = Database(settings.db_path).connect()
            with transaction(conn):
                outbox.enable(conn, SITE)
            conn.close()
            central.start()
            uplink = vialguard("uplink", "--config", str(config), log=directory / "uplink.log")
            wait_for(
                lambda: site_count(settings.db_path, "SELECT count(*) FROM uplink_outbox") == 0,
                90,
                "central to acknowledge the site's every row",
            )
            yield System(site, central, url, settings.db_path)
    finally:
        stop(uplink)
        stop(central.process)
        broker.stop()
        drop_database(postgres_cluster, name)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat()


def _ts(iso: str | None) -> float | None:
    return None if iso is None else datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# Both APIs round potency and hours to 4 decimals. Central's reading times are whole microseconds (the
# site's are float seconds), which moves the model's figures by about 1e-12 of themselves: enough to
# flip the last rounded digit only at a rounding boundary, so figures agree to one unit of it.
ROUNDED = 1e-4


def test_central_gives_every_vial_the_sites_own_answer(system: System) -> None:
    """For every vial: verdict, time left, basis, potency best/low/high and location equal to the site's."""
    now = system.site.clock.wall()
    site = {v["key"]: v for v in system.site.client.get("/api/v1/vials").json()}
    central = {v["key"]: v for v in system.central.get(f"/api/v1/fleet/vials?at={now!r}")["vials"]}
    assert (
        set(central)
        == set(site)
        == {
            "roze-0001",
            "roze-0002",
            "methy-0001",
            "infusion-0001",
            "infusion-9001",
        }
    )
    for key, theirs in site.items():
        ours = central[key]
        assert ours["site"] == SITE
        assert ours["refused"] is None, ours["refused"]
        assert (ours["location"], ours["packaging"], ours["status"]) == (
            theirs["location"],
            theirs["packaging"],
            theirs["status"],
        ), key
        for bound in ("best", "low", "high"):
            assert ours["potency_bounds_percent"][bound] == pytest.approx(
                theirs["potency_bounds_percent"][bound], abs=ROUNDED
            ), (key, bound)
        assert _ts(ours["potency_as_of"]) == pytest.approx(_ts(theirs["potency_as_of"]), abs=1e-6)
        mine, their = ours["verdict"], theirs["verdict"]
        for word in ("verdict", "label", "colour", "basis", "limited_by", "in_stock", "time_left"):
            assert mine[word] == their[word], (key, word)
        assert mine["basis_percent"] == pytest.approx(their["basis_percent"], abs=ROUNDED), key
        if their["hours_left"] is None:
            assert mine["hours_left"] is None, key
        else:
            assert mine["hours_left"] == pytest.approx(their["hours_left"], abs=ROUNDED), key
    # The history the comparison covers: light seen, gaps, a move, an end of life.
    assert site_count(system.db, "SELECT count(*) FROM gaps") > 0
    assert site["roze-0002"]["location"] == "prep-room"
    assert site["methy-0001"]["status"] == "administered"
    assert site["infusion-0001"]["potency_bounds_percent"]["low"] < 100.0
    # The received bag carries its half hour elsewhere: below the bag that spent the hour here alone.
    assert site["infusion-9001"]["received_from"] == "site-a"
    here, travelled = (site[k]["potency_bounds_percent"]["best"] for k in ("infusion-0001", "infusion-9001"))
    assert travelled < here


def test_locations_sensors_and_alerts_carry_the_site(system: System) -> None:
    """The configuration routes and the standing alerts name the site, and hold what the site holds."""
    locations = system.central.get("/api/v1/fleet/locations")["locations"]
    assert [(x["site"], x["key"], x["sensors"]) for x in locations] == [
        (SITE, "fridge-1", ["fridge-1-lux", "fridge-1-temp"]),
        (SITE, "prep-room", []),
    ]
    assert locations[1]["worst_case_lux"] == 500.0
    sensors = system.central.get("/api/v1/fleet/sensors")["sensors"]
    assert [(s["site"], s["key"], s["location"], s["quantity"]) for s in sensors] == [
        (SITE, "fridge-1-lux", "fridge-1", "light"),
        (SITE, "fridge-1-temp", "fridge-1", "temperature"),
    ]
    standing = system.central.get("/api/v1/fleet/alerts/current")["alerts"]
    site_standing = site_count(system.db, "SELECT count(*) FROM alerts WHERE state <> 'resolved'")
    assert len(standing) == site_standing
    assert all(a["site"] == SITE and a["state"] != "resolved" for a in standing)


def test_the_fleet_page_lists_locations_worst_first(system: System) -> None:
    """The page has a row per location, the worst first, each with the worst verdict of the vials the
    site itself places there, in the verdict's own words."""
    page = f"http://127.0.0.1:{system.central.port}/fleet?at={system.site.clock.wall()!r}"
    with urllib.request.urlopen(page, timeout=10) as response:
        html = response.read().decode()
    worst: dict[str, int] = {"fridge-1": -1, "prep-room": -1}
    for v in system.site.client.get("/api/v1/vials").json():
        worst[v["location"]] = max(worst[v["location"]], VERDICTS.index(v["verdict"]["verdict"]))
    expected = sorted(worst, key=lambda loc: (-worst[loc], loc))
    found = re.findall(
        r'<tr><td><span class="status status-\w+">([^<]+)</span></td><td>([^<]+)</td>'
        r'<td>[^<]+<span class="quiet">([^<]+)</span>',
        html,
    )
    assert found == [(LABELS[VERDICTS[worst[loc]]], SITE, loc) for loc in expected]
    assert '<span class="offline">' not in html  # the site's uplink is connected
