"""Central computes a vial's whole life from every site's ledgers, and it is what the receiving site,
going on from the state the hand-over carried, answers.

One running system: two simulated sites on a private Mosquitto uplinking to central on a private
PostgreSQL. Site A holds an infusion bag for ten minutes, a door left open most of them, hands it over to
site B, which receives it into its fridge and records the rest of twenty minutes (its own door opened).
"""

from __future__ import annotations

import tempfile
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from fleet.central import vial_life
from fleet.engines.mosquitto import PrivateMosquitto
from fleet.engines.postgres import PrivatePostgres
from hardware.clock import ManualClock
from monitor.assessment import VialAssessment, assess, thresholds_of
from monitor.config import Settings, load_settings
from monitor.config.simulation import ScenarioConfig
from monitor.model.profiles import Catalog
from monitor.store import Database, outbox
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from tests.api.conftest import serve
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

KEY = "a-infusion-0001"
A_SECONDS = 600.0
B_SECONDS = 1200.0
# Central keeps reading times to the microsecond, the sites their float seconds: a ledger value moves by
# the dose of half a microsecond at most, about 1e-12 of the figures here. The carried sums and the whole
# life add the same stretches in another grouping (rounding at 1e-16). 1e-9 is far above both.
RELATIVE = 1e-9
# hours_left is given, as on every surface, rounded to 4 decimals (VialVerdict.facts).
ROUNDED = 1e-4


def _site(directory: Path, name: str, broker_url: str, scenario: ScenarioConfig, prefix: str) -> Settings:
    """The shipped simulated site as ``name``, its vial keys prefixed (keys are the organisation's)."""
    config = site_config(directory, name, broker_url)
    text = config.read_text(encoding="utf-8")
    for key in ("roze-0001", "roze-0002", "methy-0001", "infusion-0001"):
        text = text.replace(f'key = "{key}"', f'key = "{prefix}{key}"')
    config.write_text(text, encoding="utf-8")
    settings = load_settings(config)
    simulation = settings.simulation.model_copy(update={"scenarios": [scenario], "openings_per_day": 0.0})
    return settings.model_copy(update={"simulation": simulation})


def _enable_outbox(settings: Settings, site: str) -> None:
    conn = Database(settings.db_path).connect()
    with transaction(conn):
        outbox.enable(conn, site)
    conn.close()


@dataclass
class System:
    central: Central
    database_url: str
    site_b: Settings
    now_b: float
    theirs: VialAssessment  # site B's own answer for the bag, from the state it carried


@pytest.fixture(scope="module")
def system(postgres_cluster: PrivatePostgres, catalog: Catalog) -> Iterator[System]:
    directory = Path(tempfile.mkdtemp(prefix="vialguard-life-"))
    broker = PrivateMosquitto(directory / "mosquitto")
    broker.start()
    name = "t_fleet_vial_life"
    url = create_database(postgres_cluster, name)
    door = ScenarioConfig(kind="door-left-open", start_after_seconds=60, duration_seconds=400, lux=700)
    site_a = _site(directory, "site-a", broker.url, door, "a-")
    opening = ScenarioConfig(kind="door-left-open", start_after_seconds=800, duration_seconds=200, lux=400)
    site_b = _site(directory, "site-b", broker.url, opening, "b-")
    clock_a = ManualClock()
    clock_b = ManualClock(clock_a.wall())
    run_simulation(site_a, catalog, clock_a, A_SECONDS).close()
    with serve(site_a, clock_a) as a:
        r = a.writer.post(f"/api/v1/vials/{KEY}/hand-over", json={"to_site": "site-b"})
        assert r.status_code == 201, r.text
        document: dict[str, Any] = r.json()["document"]
    run_simulation(site_b, catalog, clock_b, B_SECONDS).close()
    with serve(site_b, clock_b) as b:
        r = b.writer.post("/api/v1/vials/receive", json={"document": document, "location": "fridge-1"})
        assert r.status_code == 201, r.text
    conn = Database(site_b.db_path).connect()
    record = vial_store.by_key(conn, KEY)
    assert record is not None
    now_b = clock_b.wall()
    theirs = assess(conn, catalog, record, thresholds_of(site_b.rules.thresholds()), now=now_b)
    conn.close()
    _enable_outbox(site_a, "site-a")
    _enable_outbox(site_b, "site-b")
    central = Central(url, broker.url, directory)
    uplinks = []
    try:
        central.start()
        for s in ("site-a", "site-b"):
            uplinks.append(
                vialguard("uplink", "--config", str(directory / f"{s}.toml"), log=directory / f"{s}.log")
            )
        for settings in (site_a, site_b):
            wait_for(
                lambda db=settings.db_path: site_count(db, "SELECT count(*) FROM uplink_outbox") == 0,
                90,
                "central to acknowledge every row of both sites",
            )
        yield System(central, url, site_b, now_b, theirs)
    finally:
        for process in uplinks:
            stop(process)
        stop(central.process)
        broker.stop()
        drop_database(postgres_cluster, name)


def _ts(iso: str | None) -> float | None:
    return None if iso is None else datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_whole_life_at_central_is_the_receiving_sites_answer(system: System) -> None:
    """From both sites' ledgers, no carried state: potency best/low/high to 1e-9 of the receiving site's,
    the same verdict, basis and time left, and both sites in the order the bag went."""
    life = system.central.get(f"/api/v1/fleet/vials/{KEY}/life?at={system.now_b!r}")
    assert life["refused"] is None, life["refused"]
    p, v = system.theirs.potency, system.theirs.verdict
    ours = life["potency_bounds_percent"]
    for bound, theirs in (
        ("best", p.percent_range.best),
        ("low", p.percent_range.low),
        ("high", p.percent_range.high),
    ):
        assert ours[bound] == pytest.approx(theirs, rel=RELATIVE), bound
    assert _ts(life["potency_as_of"]) == pytest.approx(p.as_of, abs=1e-6)
    mine = life["verdict"]
    facts = v.facts()
    for word in ("verdict", "label", "basis", "limited_by", "in_stock", "time_left"):
        assert mine[word] == facts[word], word
    assert mine["basis_percent"] == pytest.approx(v.basis_percent, abs=ROUNDED)
    if v.hours_left is None:
        assert mine["hours_left"] is None
    else:
        assert mine["hours_left"] == pytest.approx(v.hours_left, abs=ROUNDED)
    assert (life["site"], life["location"], life["status"]) == ("site-b", "fridge-1", "active")
    sites = life["sites"]
    assert [(s["site"], s["arrived"], s["handed_over_to"]) for s in sites] == [
        ("site-a", "registered", "site-b"),
        ("site-b", "received", None),
    ]
    assert sites[0]["until"] == sites[1]["from"]
    assert p.percent_range.best < 100.0  # the comparison covers light seen


def test_a_key_no_site_has_sent_is_not_found(system: System) -> None:
    """404 with the reason, not an empty life."""
    with pytest.raises(urllib.error.HTTPError) as caught:
        system.central.get("/api/v1/fleet/vials/nope-0001/life")
    assert caught.value.code == 404
    assert "no site has sent central a vial 'nope-0001'" in caught.value.read().decode()


def test_leaving_out_the_first_sites_part_changes_the_answer(system: System, catalog: Catalog) -> None:
    """The same computation without site A's stretches is far from the site's answer: A's part counts."""
    with psycopg.connect(system.database_url) as conn:
        whole = vial_life.whole_life(conn, catalog, KEY, system.now_b, at=system.now_b)
        part = vial_life.whole_life(
            conn, catalog, KEY, system.now_b, at=system.now_b, leave_out=frozenset({"site-a"})
        )
    theirs = system.theirs.potency.percent_range
    assert whole.potency_percent is not None
    assert part.potency_percent is not None
    assert whole.potency_percent.best == pytest.approx(theirs.best, rel=RELATIVE)
    assert [s.site for s in part.journey.stays] == ["site-b"]
    for bound in ("best", "low", "high"):
        assert getattr(part.potency_percent, bound) != pytest.approx(getattr(theirs, bound), rel=RELATIVE), (
            bound
        )
    assert part.potency_percent.best > theirs.best
