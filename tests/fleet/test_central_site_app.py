"""Central serves each site's own API under ``/sites/{site}/`` over its PostgreSQL copy of the site: the
same routes and JSON as the Pi, central's operator tokens for every read, and each write either the
command to the site it belongs to or a refusal naming why and what to use instead.

One running system for the module: the simulated site of ``test_fleet_verdicts`` (an hour with a door
left open, a sensor dropout, a vial moved to a room without sensors, one administered, one received from
another site) served by its own API and uplinking over a private Mosquitto to central (a real
``vialguard central`` process) on a private PostgreSQL; central's application is served beside it on
uvicorn, at the site's clock, so both answer for the same moment.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from psycopg.types.json import Jsonb

from fleet.central import operators
from fleet.central.api import create_central_app
from fleet.central.site_apps import NO_LIMITS, SiteApps, SiteShape, site_settings
from fleet.central.site_store import SiteStore
from fleet.engines.mosquitto import PrivateMosquitto
from fleet.engines.postgres import PrivatePostgres
from hardware.clock import ManualClock
from monitor import reporting
from monitor.alerts.rules import RuleThresholds
from monitor.config import load_settings
from monitor.config.simulation import ScenarioConfig
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.reporting import Excursion
from monitor.store import Database, alerts, outbox
from monitor.store.database import transaction
from tests.api.conftest import TLS, Served, serve
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
from tests.fleet.test_fleet_verdicts import HOUR, PREP_ROOM, ROUNDED, SITE, _handed_over, _iso, _ts
from tests.monitor.test_engine import run_simulation
from vialguard.central_sites import CentralSiteApi

pytestmark = pytest.mark.slow

AT = f"/sites/{SITE}"
# The site's own alert limits, none central's default: its dashboard and reports at central read these.
LIMITS = """
[rules]
light_lux = 40.0
light_hold_seconds = 30.0
temperature_low_celsius = 3.0
temperature_high_celsius = 7.0
"""


@dataclass
class System:
    site: Served
    central: httpx.Client  # central's application, no token
    tokens: dict[str, str]  # central's operator tokens, by scope
    db: Path
    database_url: str
    process_port: int  # the `vialguard central` process's own port

    def get(self, path: str, scope: str = "read") -> httpx.Response:
        return self.central.get(f"{AT}{path}", headers=self.auth(scope))

    def auth(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def caught_up(self) -> None:
        wait_for(
            lambda: site_count(self.db, "SELECT count(*) FROM uplink_outbox") == 0,
            60,
            "central to acknowledge the site's every row",
        )


def _uvicorn(app: Any) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10  # a bound on a hang, not a measured speed
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def system(
    postgres_cluster: PrivatePostgres, catalog: Catalog, request: pytest.FixtureRequest
) -> Iterator[System]:
    """The running system, one per module that uses it (each on its own database)."""
    directory = Path(tempfile.mkdtemp(prefix="vialguard-site-app-"))
    broker = PrivateMosquitto(directory / "mosquitto")
    broker.start()
    name = f"t_{request.module.__name__.rsplit('.', 1)[-1]}"
    url = create_database(postgres_cluster, name)
    config = site_config(directory, SITE, broker.url, fleet_extra=PREP_ROOM + LIMITS)
    settings = load_settings(config)
    scenarios = [
        ScenarioConfig(kind="door-left-open", start_after_seconds=600, duration_seconds=1200, lux=600),
        ScenarioConfig(
            kind="sensor-dropout", start_after_seconds=2000, duration_seconds=300, sensor="fridge-1-lux"
        ),
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
            for vial, body in (
                ("roze-0002", {"kind": "moved", "at": _iso(clock.wall() - 1500), "location": "prep-room"}),
                ("methy-0001", {"kind": "administered", "at": _iso(clock.wall() - 300)}),
            ):
                r = site.writer.post(f"/api/v1/vials/{vials[vial]}/events", json=body)
                assert r.status_code == 201, r.text
            r = site.writer.post("/api/v1/vials/receive", json={"document": document, "location": "fridge-1"})
            assert r.status_code == 201, r.text
            sqlite = Database(settings.db_path).connect()
            with transaction(sqlite):
                outbox.enable(sqlite, SITE)
            sqlite.close()
            central.start()
            uplink = vialguard("uplink", "--config", str(config), log=directory / "uplink.log")
            with psycopg.connect(url) as pg:
                tokens = {
                    scope: operators.create(pg, f"op-{scope}", scope, time.time(), None, "test")[1]
                    for scope in ("read", "write", "admin")
                }
            # Central's application at the site's clock: both APIs answer for the same moment.
            app = create_central_app(
                url, catalog, clock.wall, site_api=CentralSiteApi(), sites_clock=lambda facts, now: now
            )
            for base in _uvicorn(app):
                with httpx.Client(base_url=base, timeout=30, verify=TLS) as client:
                    made = System(site, client, tokens, settings.db_path, url, central.port)
                    made.caught_up()
                    yield made
    finally:
        stop(uplink)
        stop(central.process)
        broker.stop()
        drop_database(postgres_cluster, name)


def _close(ours: Any, theirs: Any, where: str) -> None:
    """Equal, numbers to the last rounded digit (central's reading times are whole microseconds)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert set(ours) == set(theirs), where
        for k in theirs:
            _close(ours[k], theirs[k], f"{where}.{k}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), where
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _close(a, b, f"{where}[{i}]")
    elif isinstance(theirs, float) and not isinstance(ours, bool):
        assert ours == pytest.approx(theirs, abs=ROUNDED), where
    else:
        assert ours == theirs, where


def test_every_vial_is_the_sites_own_answer(system: System) -> None:
    """``/sites/<site>/api/v1/vials`` at central is the site's ``/api/v1/vials``: every vial, field by
    field (verdict, basis, time left, potency bounds, location, hand-overs), and each vial alone too."""
    system.caught_up()
    site = system.site.client.get("/api/v1/vials").json()
    response = system.get("/api/v1/vials")
    assert response.status_code == 200, response.text
    central = response.json()
    assert [v["key"] for v in central] == [v["key"] for v in site]
    assert {v["key"] for v in site} == {
        "roze-0001",
        "roze-0002",
        "methy-0001",
        "infusion-0001",
        "infusion-9001",
    }
    for ours, theirs in zip(central, site, strict=True):
        ours.pop("potency_as_of"), theirs.pop("potency_as_of")  # compared below, to the microsecond
        _close(ours, theirs, theirs["key"])
    # What the comparison covers: a verdict limited by the label, one by the model, a move, an end of life.
    by_key = {v["key"]: v for v in site}
    assert by_key["roze-0002"]["location"] == "prep-room"
    assert by_key["methy-0001"]["status"] == "administered"
    assert by_key["infusion-9001"]["received_from"] == "site-a"
    assert len({v["verdict"]["verdict"] for v in site}) > 1 or len({v["verdict"]["basis"] for v in site}) > 1
    for v in site:
        one = system.get(f"/api/v1/vials/{v['id']}").json()
        theirs = system.site.client.get(f"/api/v1/vials/{v['id']}").json()
        one.pop("potency_as_of"), theirs.pop("potency_as_of")
        _close(one, theirs, f"vial {v['id']}")
        events = system.get(f"/api/v1/vials/{v['id']}/events").json()
        assert events == system.site.client.get(f"/api/v1/vials/{v['id']}/events").json()


@pytest.mark.parametrize(
    "route", ["potency?points=24", "potency-series?points=60"], ids=["potency", "potency-series"]
)
def test_every_vials_potency_curve_is_the_sites(system: System, route: str) -> None:
    """A vial's potency curve (best, low, high at each time, the event times included in the series)
    equals the site's for every vial."""
    system.caught_up()
    for v in system.site.client.get("/api/v1/vials").json():
        theirs = system.site.client.get(f"/api/v1/vials/{v['id']}/{route}").json()
        response = system.get(f"/api/v1/vials/{v['id']}/{route}")
        assert response.status_code == 200, response.text
        ours = response.json()
        points = (ours, theirs) if isinstance(theirs, list) else (ours["points"], theirs["points"])
        for curve in points:
            for p in curve:
                p["at"] = _ts(p["at"])  # central's data times are whole microseconds
        _close(ours, theirs, f"{v['key']} {route}")


def test_locations_and_sensors_are_the_sites(system: System) -> None:
    """Locations (conditions now, dose, MKT, lamp) and sensors (newest reading) as the site gives them."""
    system.caught_up()
    for path in ("/api/v1/locations", "/api/v1/sensors"):
        theirs = system.site.client.get(path).json()
        ours = system.get(path)
        assert ours.status_code == 200, ours.text
        _close(ours.json(), theirs, path)
    fridge = system.get("/api/v1/locations").json()[0]
    assert fridge["cumulative_lux_hours"] > 0
    assert fridge["mean_kinetic_temperature_celsius"] is not None


def test_alerts_are_the_sites_with_their_cursor(system: System) -> None:
    """The alert list, its cursor, a filter, one alert and its events are the site's."""
    system.caught_up()
    theirs = system.site.client.get("/api/v1/alerts?limit=1000").json()
    ours = system.get("/api/v1/alerts?limit=1000").json()
    assert theirs["alerts"], "the scenarios raise alerts"
    assert ours["cursor"] == theirs["cursor"]
    assert ours["has_more"] == theirs["has_more"]
    assert len(ours["alerts"]) == len(theirs["alerts"])
    for a, b in zip(ours["alerts"], theirs["alerts"], strict=True):
        _close(a, b, f"alert {b['id']}")
    # A cursor from the site's page is a cursor at central.
    middle = theirs["alerts"][len(theirs["alerts"]) // 2]["seq"]
    assert [a["id"] for a in system.get(f"/api/v1/alerts?since={middle}").json()["alerts"]] == [
        a["id"] for a in system.site.client.get(f"/api/v1/alerts?since={middle}").json()["alerts"]
    ]
    waited = system.get(f"/api/v1/alerts?since={theirs['cursor']}&wait=0.2")  # a long poll, nothing new
    assert waited.status_code == 200, waited.text
    assert waited.json()["alerts"] == []
    filtered = "/api/v1/alerts?location=fridge-1&state=resolved"
    assert system.get(filtered).json() == system.site.client.get(filtered).json()
    first = theirs["alerts"][0]["id"]
    one, site_one = (
        system.get(f"/api/v1/alerts/{first}").json(),
        system.site.client.get(f"/api/v1/alerts/{first}"),
    )
    site_detail = site_one.json()
    assert one["snapshot"]["held_at"] == "site"  # central never receives it
    for detail in (one, site_detail):
        detail.pop("snapshot")
    # Central holds each change since the uplink began: the back-filled state, then each one after.
    assert [e["seq"] for e in one.pop("events")] == [e["seq"] for e in site_detail.pop("events")][-1:]
    _close(one, site_detail, f"alert {first}")
    assert system.get("/api/v1/alerts/999999").status_code == 404


def test_alert_counts_are_the_sites(system: System) -> None:
    """The store's alert counts by state and severity (what /metrics would give) are the site's own."""
    system.caught_up()
    with psycopg.connect(system.database_url, autocommit=True) as pg:
        ours = SiteStore(pg, SITE).alert_counts()
    sqlite = Database(system.db).connect()
    try:
        theirs = alerts.counts(sqlite)
    finally:
        sqlite.close()
    assert theirs
    assert ours == theirs


def test_the_audit_trail_is_the_sites_and_needs_admin(system: System) -> None:
    """The site's audit rows, verbatim and verified; an admin operator token is needed, as at the site."""
    system.caught_up()
    assert system.get("/api/v1/audit", "read").status_code == 403
    theirs = system.site.client.get("/api/v1/audit?limit=1000", headers=system.site.auth("admin")).json()
    ours = system.get("/api/v1/audit?limit=1000", "admin").json()
    assert ours == theirs
    assert theirs["entries"]
    check = system.get("/api/v1/audit/verify", "admin").json()
    assert check == system.site.client.get("/api/v1/audit/verify", headers=system.site.auth("admin")).json()
    assert check["intact"] is True


def test_reads_need_an_operator_token(system: System) -> None:
    """No token, or one that is not central's (the site's own), is 401; central's health check is open."""
    assert system.central.get(f"{AT}/api/v1/vials").status_code == 401
    assert system.central.get(f"{AT}/api/v1/alerts").status_code == 401
    site_token = {"Authorization": f"Bearer {system.site.tokens['read']}"}
    assert system.central.get(f"{AT}/api/v1/vials", headers=site_token).status_code == 401
    assert system.central.get("/healthz").status_code == 200
    unknown = system.central.get("/sites/nowhere/api/v1/vials", headers=system.auth("read"))
    assert unknown.status_code == 404
    assert "'nowhere'" in unknown.json()["detail"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/sites", "/api/v1/fleet/alerts", "/api/v1/fleet/vials", "/api/v1/fleet/locations", "/fleet"],
)
def test_centrals_own_reads_need_an_operator_token(system: System, path: str) -> None:
    """Central's own routes take the same tokens as the sites' APIs under it: none, or a site's own, is
    401 and says which token to make; the /fleet page too, unless central listens on loopback alone."""
    missing = system.central.get(path)
    assert missing.status_code == 401
    assert "vialguard central-token create" in missing.json()["detail"]
    site_token = {"Authorization": f"Bearer {system.site.tokens['read']}"}
    assert system.central.get(path, headers=site_token).status_code == 401
    assert system.central.get(path, headers=system.auth("read")).status_code == 200
    on_loopback = httpx.get(f"http://127.0.0.1:{system.process_port}{path}", timeout=30)
    assert on_loopback.status_code == (200 if path == "/fleet" else 401)


def test_centrals_own_trail_and_commands_need_their_scopes(system: System) -> None:
    """Central's audit trail needs ``admin``, as a site's does; a command is read with ``read``."""
    assert system.central.get("/api/v1/fleet/audit", headers=system.auth("read")).status_code == 403
    assert system.central.get("/api/v1/fleet/audit", headers=system.auth("admin")).status_code == 200
    assert system.central.get("/api/v1/fleet/commands/none").status_code == 401
    assert system.central.get("/api/v1/fleet/commands/none", headers=system.auth("read")).status_code == 404


def test_vialguard_central_serves_the_sites_apis(system: System) -> None:
    """The `vialguard central` process itself serves /sites/<site>/, operator token required."""
    base = f"http://127.0.0.1:{system.process_port}{AT}/api/v1/locations"
    assert httpx.get(base, timeout=30).status_code == 401
    answered = httpx.get(base, headers=system.auth("read"), timeout=30)
    assert answered.status_code == 200, answered.text
    assert [x["key"] for x in answered.json()] == ["fridge-1", "prep-room"]


def test_the_sites_apis_answer_only_to_names_central_is_given(system: System, catalog: Catalog) -> None:
    """A ``Host`` name central was not given is refused before anything (DNS rebinding), as at a site;
    ``allowed_hosts`` (``vialguard central --allowed-host``) adds one."""
    named = {**system.auth("read"), "Host": "central.example"}
    refused = system.central.get(f"{AT}/api/v1/vials", headers=named)
    assert refused.status_code == 400
    assert "central.example" in refused.json()["message"]
    app = create_central_app(
        system.database_url,
        catalog,
        system.site.clock.wall,
        site_api=CentralSiteApi(),
        allowed_hosts=("central.example",),
    )
    for base in _uvicorn(app):
        with httpx.Client(base_url=base, timeout=30, verify=TLS) as client:
            answered = client.get(f"{AT}/api/v1/locations", headers=named)
            assert answered.status_code == 200, answered.text


def test_an_acknowledgement_is_refused_naming_the_command(system: System) -> None:
    """Acknowledging through the site's route at central is a 409 naming the command route; that route,
    with the same operator's token, makes the command (202)."""
    alert = system.site.client.get("/api/v1/alerts?limit=1").json()["alerts"][0]["id"]
    body = {"by": "A. Pharmacist", "comment": "checked the fridge"}
    assert system.central.post(f"{AT}/api/v1/alerts/{alert}/ack", json=body).status_code == 401
    read = system.central.post(f"{AT}/api/v1/alerts/{alert}/ack", json=body, headers=system.auth("read"))
    assert read.status_code == 403
    refused = system.central.post(f"{AT}/api/v1/alerts/{alert}/ack", json=body, headers=system.auth("write"))
    assert refused.status_code == 409, refused.text
    route = f"/api/v1/fleet/sites/{SITE}/alerts/{alert}/acknowledge"
    assert route in refused.json()["detail"]
    command = system.central.post(route, json=body, headers={**system.auth("write"), "Idempotency-Key": "k1"})
    assert command.status_code == 202, command.text
    assert command.json()["kind"] == "alert.acknowledge"
    assert command.json()["site"] == SITE


_SILENCE = {"matchers": {"rule": "light"}, "duration_seconds": 60, "created_by": "a", "comment": "b"}
_VIAL = {
    "key": "roze-0099",
    "drug": "mecobalamin",
    "form": "rozebalamin-25mg",
    "lot": "L1",
    "location": "fridge-1",
    "packaging": "in-carton",
}


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        pytest.param("/api/v1/silences", _SILENCE, f"/api/v1/fleet/sites/{SITE}/silences", id="silence"),
        pytest.param(
            "/api/v1/silences/1/expire",
            {"by": "a"},
            f"/api/v1/fleet/sites/{SITE}/silences/1/expire",
            id="expire-silence",
        ),
        pytest.param("/api/v1/vials", _VIAL, "Register it with the site's own API", id="register-vial"),
        pytest.param("/api/v1/vials/1/events", {"kind": "discarded"}, "Record it with", id="vial-event"),
        pytest.param(
            "/api/v1/vials/roze-0001/hand-over", {"to_site": "site-b"}, "/hand-over", id="hand-over"
        ),
        pytest.param("/api/v1/tokens", {"name": "ops", "scope": "read"}, "central-token create", id="token"),
    ],
)
def test_every_other_write_is_refused_saying_why(
    system: System, path: str, body: dict[str, Any], says: str
) -> None:
    """Each write the site owns is a 409 whose detail says what to do instead; never a silent no-op."""
    response = system.central.post(f"{AT}{path}", json=body, headers=system.auth("admin"))
    assert response.status_code == 409, response.text
    assert "central mirrors site" in response.json()["detail"]
    assert says in response.json()["detail"]
    assert response.json()["error"] == "conflict"
    assert system.get("/api/v1/vials").json()[0]["status"] == "active"  # nothing changed


@pytest.mark.parametrize(
    ("path", "because"),
    [
        ("/api/v1/silences", "does not send its silences"),
        ("/api/v1/system-events", "does not send them"),
        ("/healthz", "heartbeat stays at the site"),
        ("/metrics", "heartbeat stays at the site"),
    ],
)
def test_views_central_lacks_the_data_for_say_why(system: System, path: str, because: str) -> None:
    """A view from what the site keeps to itself is a 501 saying central cannot give the site's answer,
    and why."""
    response = system.get(path)
    assert response.status_code == 501, response.text
    assert "central cannot give the site's" in response.json()["detail"]
    assert because in response.json()["detail"]


def test_a_site_with_its_own_drug_profiles_is_refused_not_misanswered(system: System) -> None:
    """A site that adds drug profiles central lacks: its vials and its profiles are a 501 naming that,
    never central's catalog's answer; once it has none again, the site's answer again."""
    assert system.get("/api/v1/profiles").status_code == 200
    with psycopg.connect(system.database_url, autocommit=True) as pg:
        pg.execute("UPDATE site_settings SET drug_profiles_sha256 = %s WHERE site = %s", ("ab" * 32, SITE))
        try:
            for path in (
                "/api/v1/profiles",
                "/api/v1/vials",
                "/api/v1/vials/1",
                "/api/v1/reports/vials/1.pdf",
            ):
                refused = system.get(path)
                assert refused.status_code == 501, (path, refused.text)
                assert "adds its own drug profiles" in refused.json()["detail"]
                assert "abababababab" in refused.json()["detail"]
        finally:
            pg.execute("UPDATE site_settings SET drug_profiles_sha256 = NULL WHERE site = %s", (SITE,))
    assert system.get("/api/v1/vials").status_code == 200


def test_the_most_recently_asked_sites_apps_are_kept(system: System, catalog: Catalog) -> None:
    """A site's application is made once and kept while asked; past ``max_apps`` the least recently
    asked is let go and made again when next asked."""
    with psycopg.connect(system.database_url, autocommit=True) as pg:
        pg.execute("INSERT INTO sites (site, first_seen_at, last_seen_at) VALUES ('ward-9', now(), now())")
        try:
            apps = SiteApps(
                system.database_url, CentralSiteApi(), catalog, system.site.clock.wall, max_apps=1
            )
            first = apps.app_for(SITE)
            assert first is not None
            assert apps.app_for(SITE) is first
            other = apps.app_for("ward-9")
            assert other is not None
            assert apps.app_for("ward-9") is other
            again = apps.app_for(SITE)
            assert again is not None
            assert again is not first
            assert apps.app_for("nowhere") is None
            apps.close()
        finally:
            pg.execute("DELETE FROM sites WHERE site = 'ward-9'")


def test_a_database_restart_is_a_503_then_the_answer_again(
    system: System, postgres_cluster: PrivatePostgres
) -> None:
    """PostgreSQL stopped: the site's API at central answers 503 with Retry-After, naming the database;
    started again: the same answer as before, the connections the restart broke replaced (runs last)."""
    system.caught_up()
    before = system.get("/api/v1/locations").json()
    postgres_cluster.stop("immediate")
    try:
        down = system.get("/api/v1/locations")
        assert down.status_code == 503, down.text
        assert down.headers["Retry-After"] == "5"
        assert "central's database is unavailable" in down.json()["detail"]
    finally:
        postgres_cluster.start_if_stopped()
    wait_for(lambda: system.get("/api/v1/locations").status_code == 200, 60, "central's answers again")
    assert system.get("/api/v1/locations").json() == before


def _excursions(system: System, rules: RuleThresholds) -> list[Excursion]:
    """The site's excursions of the last two days with ``rules``, from its database."""
    now = system.site.clock.wall()
    conn = Database(system.db).connect()
    try:
        return reporting.excursions(conn, now - 2 * 86_400.0, now, rules)
    finally:
        conn.close()


def test_the_excursion_report_is_the_sites_with_its_own_limits(system: System) -> None:
    """The excursions CSV at central is the site's, computed with the site's limits: with central's
    defaults the site's own answer would differ, so equal means central used the site's."""
    system.caught_up()
    ours = _excursions(system, system.site.settings.rules.thresholds())
    defaults = _excursions(system, RuleThresholds())
    assert ours
    assert ours != defaults  # the limits decide the answer here
    query = "?days=2"
    theirs = system.site.client.get(f"/api/v1/reports/excursions.csv{query}")
    central = system.get(f"/api/v1/reports/excursions.csv{query}")
    assert theirs.status_code == central.status_code == 200, central.text
    assert central.text == theirs.text
    assert len(central.text.splitlines()) == len(ours) + 1  # a header and one row per excursion


def test_the_dashboard_is_the_sites_with_its_own_limits(system: System) -> None:
    """The dashboard's data at central is the site's: its light threshold and door openings from the
    site's limits, field by field."""
    system.caught_up()
    theirs = system.site.client.get("/api/v1/dashboard")
    central = system.get("/api/v1/dashboard")
    assert theirs.status_code == central.status_code == 200, central.text
    _close(central.json(), theirs.json(), "dashboard")
    limits = system.site.settings.rules.thresholds()
    assert limits.light_lux != RuleThresholds().light_lux
    assert central.json()["thresholds"]["light_lux"] == limits.light_lux
    assert central.json()["thresholds"]["temperature_high_celsius"] == limits.temperature_high_celsius


def test_a_site_that_has_not_sent_its_limits_is_refused_not_misanswered(system: System) -> None:
    """Until the site sends its alert limits, its dashboard and reports at central are a 501
    naming why, never central's defaults; once they are there, the site's answer again."""
    with psycopg.connect(system.database_url, autocommit=True) as pg:
        (kept,) = pg.execute("SELECT rule_limits FROM site_settings WHERE site = %s", (SITE,)).fetchone()
        pg.execute("UPDATE site_settings SET rule_limits = NULL WHERE site = %s", (SITE,))
        try:
            for path in (
                "/api/v1/dashboard",
                "/api/v1/reports/excursions.csv",
                "/api/v1/reports/locations/fridge-1.pdf",
                "/api/v1/reports/vials/1.pdf",
            ):
                refused = system.get(path)
                assert refused.status_code == 501, (path, refused.text)
                assert "has not sent its light and temperature limits" in refused.json()["detail"]
        finally:
            pg.execute("UPDATE site_settings SET rule_limits = %s WHERE site = %s", (Jsonb(kept), SITE))
    assert system.get("/api/v1/dashboard").status_code == 200


@pytest.mark.parametrize(
    "query",
    ["", "?hours=2&buckets=97", "?hours=0.5&buckets=2000", "?hours=48&buckets=7"],
    ids=["default", "two-hours-97", "half-hour-finest", "two-days-7"],
)
@pytest.mark.parametrize("location", ["fridge-1", "prep-room"])
def test_a_locations_series_is_the_sites(system: System, location: str, query: str) -> None:
    """A location's light and temperature series at central is the site's for the same window and
    buckets: each bucket's minimum, maximum, mean, saturation and dose since the window's start."""
    system.caught_up()
    path = f"/api/v1/locations/{location}/series{query}"
    theirs = system.site.client.get(path)
    central = system.get(path)
    assert theirs.status_code == central.status_code == 200, central.text
    _close(central.json(), theirs.json(), path)


def test_limits_central_cannot_read_are_refused_not_guessed() -> None:
    """The site's limits become the application's [rules]; a limit central's code does not know (a newer
    site) leaves the views reading them refused, with the reason, rather than answered in part."""
    known = SiteShape(Thresholds(96.0, 91.0), (), (("light_lux", 40.0), ("temperature_high_celsius", 7.0)))
    built = site_settings(SITE, known, (), {})
    assert built.lacks_limits is None
    assert built.settings.rules.light_lux == 40.0
    assert built.settings.rules.temperature_high_celsius == 7.0
    assert built.settings.rules.potency_warning_percent == 96.0
    newer = SiteShape(Thresholds(96.0, 91.0), (), (("light_lux", 40.0), ("humidity_high_percent", 60.0)))
    refused = site_settings(SITE, newer, (), {})
    assert refused.lacks_limits is not None
    assert refused.lacks_limits.startswith("central cannot read the site's light and temperature limits")
    assert site_settings(SITE, SiteShape(None, (), None), (), {}).lacks_limits == NO_LIMITS
