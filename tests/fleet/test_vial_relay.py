"""A fleet operator hands a vial over at central: a command to the site holding it, whose document
central relays to the receiving site as a second command; both sites apply them through their audited
hand-over functions, and refusals come back with the reason."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from fleet.commands import Command, CommandKind
from fleet.engines.mosquitto import PrivateMosquitto
from fleet.uplink.commands import SiteModel, apply
from monitor.assessment import thresholds_of
from monitor.config import Settings, load_settings
from monitor.lifecycle import NewEvent, record_event
from monitor.model.profiles import Catalog
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store import audit as audit_store
from monitor.store import outbox as outbox_store
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from tests.fleet.fleet_system import Central, site_config, stop, vialguard, wait_for
from tests.fleet.test_commands import Operator

KEY = "a-roze-0001"
DONE = "a-methy-0001"  # administered at site A: not in stock


def _site(directory: Path, name: str, broker_url: str, prefix: str) -> Settings:
    """The shipped simulated site as ``name``, its vial keys prefixed (keys are the organisation's)."""
    config = site_config(directory, name, broker_url)
    text = config.read_text(encoding="utf-8")
    for key in ("roze-0001", "roze-0002", "methy-0001", "infusion-0001"):
        text = text.replace(f'key = "{key}"', f'key = "{prefix}{key}"')
    config.write_text(text, encoding="utf-8")
    return load_settings(config)


def _database(settings: Settings, site: str, now: float) -> sqlite3.Connection:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, now)
    with transaction(conn):
        outbox_store.enable(conn, site)
    return conn


def _model(settings: Settings, site: str, catalog: Catalog) -> SiteModel:
    return SiteModel(site, catalog, thresholds_of(settings.rules.thresholds()))


def _command(kind: CommandKind, site: str, args: dict[str, object], command_id: str) -> Command:
    return Command(command_id, site, kind, "central:alice", args, 0.0)


def _audit(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return [(r.actor, r.action, r.subject) for r in audit_store.entries(conn)]


def test_a_hand_over_and_its_receipt_are_applied_once_with_audit_rows(
    tmp_path: Path, catalog: Catalog
) -> None:
    """The hand-over's result carries the document; the receipt registers the vial from it; each once
    with an audit row naming central's operator and the command, a second delivery changing nothing."""
    now = time.time()
    a_settings = _site(tmp_path, "site-a", "mqtt://127.0.0.1:1", "a-")
    b_settings = _site(tmp_path, "site-b", "mqtt://127.0.0.1:1", "b-")
    a, b = _database(a_settings, "site-a", now), _database(b_settings, "site-b", now)
    a_model, b_model = _model(a_settings, "site-a", catalog), _model(b_settings, "site-b", catalog)
    out = _command("vial.hand-over", "site-a", {"key": KEY, "to_site": "site-b", "location": "x"}, "c-1")
    first = apply(a, out, now + 60, a_model)
    assert first.outcome == "applied", first.reason
    assert apply(a, out, now + 90, a_model) == first
    document = first.detail["document"]
    assert document["from_site"] == "site-a"
    assert document["handed_over_ts"] == now + 60
    receive = _command(
        "vial.receive", "site-b", {"document": document, "location": "fridge-1", "relayed_from": "c-1"}, "c-2"
    )
    second = apply(b, receive, now + 120, b_model)
    assert second.outcome == "applied", second.reason
    assert apply(b, receive, now + 150, b_model) == second
    assert second.detail["repeated"] is False
    held_a, held_b = vial_store.by_key(a, KEY), vial_store.by_key(b, KEY)
    assert held_a is not None
    assert held_b is not None
    assert (held_a.status, held_b.status) == ("handed-over", "active")
    assert _audit(a) == [("central:alice", "vial.handed-over", f"vial:{KEY}")]
    assert _audit(b) == [("central:alice", "vial.received", f"vial:{KEY}")]
    assert '"command":"c-1"' in audit_store.entries(a)[0].detail
    assert '"command":"c-2"' in audit_store.entries(b)[0].detail


@pytest.mark.parametrize(
    ("kind", "args", "reason"),
    [
        ("vial.hand-over", {"key": "nope", "to_site": "site-b"}, "no vial with key 'nope' at site 'site-a'"),
        ("vial.hand-over", {"key": DONE, "to_site": "site-b"}, "is administered: only a vial in stock"),
        ("vial.hand-over", {"key": KEY, "to_site": "site-a"}, "is this site"),
        ("vial.receive", {"document": {"format": "x"}, "location": "fridge-1"}, "document: format 'x'"),
    ],
    ids=["unknown-key", "not-in-stock", "to-itself", "not-a-document"],
)
def test_a_refused_vial_command_says_why_and_writes_nothing(
    tmp_path: Path, catalog: Catalog, kind: CommandKind, args: dict[str, object], reason: str
) -> None:
    """What the site's own hand-over or receipt would refuse is refused with the same reason."""
    now = time.time()
    settings = _site(tmp_path, "site-a", "mqtt://127.0.0.1:1", "a-")
    conn = _database(settings, "site-a", now)
    done = vial_store.by_key(conn, DONE)
    assert done is not None
    with transaction(conn):
        record_event(conn, catalog, done, NewEvent("administered", now + 1), now + 1)
    result = apply(conn, _command(kind, "site-a", args, "c-9"), now + 60, _model(settings, "site-a", catalog))
    assert result.outcome == "refused"
    assert result.reason is not None
    assert reason in result.reason
    assert _audit(conn) == []


def test_without_the_sites_model_a_vial_command_is_refused(tmp_path: Path) -> None:
    """An uplink started without the site's drug profiles refuses to move vials rather than guess."""
    settings = _site(tmp_path, "site-a", "mqtt://127.0.0.1:1", "a-")
    conn = _database(settings, "site-a", time.time())
    result = apply(
        conn, _command("vial.hand-over", "site-a", {"key": KEY, "to_site": "b"}, "c-1"), time.time()
    )
    assert result.outcome == "refused"
    assert result.reason is not None
    assert "drug profiles" in result.reason


# -- the whole path: central's HTTP, the broker, both sites' uplinks, and back ---------------------------


@pytest.mark.slow
def test_a_hand_over_at_central_is_relayed_to_the_receiving_site(
    tmp_path: Path, broker: PrivateMosquitto, postgres: str, catalog: Catalog
) -> None:
    """One request at central: site A hands the vial over, central relays the document, site B receives
    it at the location asked; both steps shown on the command, in both sites' and central's trails; a
    retry finds the same command; refusals (unknown key or location, a vial not in stock) say why."""
    now = time.time()
    a_settings = _site(tmp_path, "site-a", broker.url, "a-")
    b_settings = _site(tmp_path, "site-b", broker.url, "b-")
    a, b = _database(a_settings, "site-a", now), _database(b_settings, "site-b", now)
    done = vial_store.by_key(a, DONE)
    assert done is not None
    with transaction(a):
        record_event(a, catalog, done, NewEvent("administered", now + 1), now + 1)
    central = Central(postgres, broker.url, tmp_path)
    central.start()
    uplinks = [
        vialguard("uplink", "--config", str(tmp_path / f"{s}.toml"), log=tmp_path / f"{s}.log")
        for s in ("site-a", "site-b")
    ]
    try:
        wait_for(
            lambda: (
                {"site-a", "site-b"} <= set(central.sites())
                and {DONE, KEY} <= {v["key"] for v in central.get("/api/v1/fleet/vials?site=site-a")["vials"]}
                and any(x["site"] == "site-b" for x in central.get("/api/v1/fleet/locations")["locations"])
            ),
            30,
            "central to hold both sites' vials and locations",
        )
        operator = Operator(central)
        path = f"/api/v1/fleet/vials/{KEY}/hand-over"
        body = {"to_site": "site-b", "location": "fridge-1"}
        status, first = operator.post(path, body, "move-1")
        status_again, again = operator.post(path, body, "move-1")
        wait_for(
            lambda: operator.command(first["id"])["relay"]["state"] != "queued", 30, "both steps of the relay"
        )
        relay = operator.command(first["id"])["relay"]
        from_second = operator.command(relay["steps"][1]["id"])["relay"]
        refusals = {
            "unknown key": operator.post("/api/v1/fleet/vials/nope/hand-over", body, "k-nope"),
            "unknown location": operator.post(path, {**body, "location": "attic"}, "k-attic"),
            "not in stock": operator.post(f"/api/v1/fleet/vials/{DONE}/hand-over", body, "k-done"),
        }
        not_in_stock = operator.settled(refusals["not in stock"][1]["id"])
        trail = central.get("/api/v1/fleet/audit")["entries"]
    finally:
        for process in uplinks:
            stop(process)
        stop(central.process)
    assert (status, status_again) == (202, 202)
    assert again["id"] == first["id"]
    assert relay["state"] == "applied", relay
    steps = relay["steps"]
    assert [(s["site"], s["kind"], s["state"]) for s in steps] == [
        ("site-a", "vial.hand-over", "applied"),
        ("site-b", "vial.receive", "applied"),
    ]
    assert steps[1]["args"]["relayed_from"] == first["id"]
    assert steps[1]["args"]["document"] == steps[0]["result"]["document"]
    assert from_second == relay  # the receipt's command shows the same two steps
    held_a, held_b = vial_store.by_key(a, KEY), vial_store.by_key(b, KEY)
    assert held_a is not None
    assert held_b is not None
    assert (held_a.status, held_b.status) == ("handed-over", "active")
    assert [e.kind for e in vial_store.events(b, held_b.id)][-1] == "received"
    assert _audit(a)[-1] == ("central:alice", "vial.handed-over", f"vial:{KEY}")
    assert _audit(b)[-1] == ("central:alice", "vial.received", f"vial:{KEY}")
    assert {k: v[0] for k, v in refusals.items()} == {
        "unknown key": 404,
        "unknown location": 422,
        "not in stock": 202,
    }
    assert "no site has sent central a vial 'nope'" in refusals["unknown key"][1]["detail"]
    assert "site 'site-b' has no location 'attic'" in refusals["unknown location"][1]["detail"]
    assert not_in_stock["state"] == "refused"
    assert f"vial {DONE!r} is administered: only a vial in stock" in not_in_stock["reason"]
    assert not_in_stock["relay"]["state"] == "refused"
    assert not_in_stock["relay"]["reason"].startswith("site-a: ")
    relay_rows = [(e["actor"], e["action"]) for e in trail if e["action"].startswith("command.")]
    assert relay_rows[:4] == [
        ("operator:alice", "command.issued"),
        ("site:site-a", "command.applied"),
        ("operator:alice", "command.issued"),
        ("site:site-b", "command.applied"),
    ]
