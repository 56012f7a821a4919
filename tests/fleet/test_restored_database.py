"""A site's database copied by hand and put back: it keeps its epoch and its counter, numbers new rows
that central already holds under those numbers from the timeline it lost, and must lose neither; and the
site raises a system alert saying so, until a person has acknowledged it and central has caught up."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from fleet.engines.mosquitto import PrivateMosquitto
from fleet.uplink import epoch_alert
from fleet.uplink.service import Uplink, credentials_of
from hardware.clock import ManualClock
from monitor.config import Settings, load_settings
from monitor.model.profiles import Catalog
from monitor.store import outbox as outbox_store
from monitor.store import webhooks as webhook_store
from monitor.store.database import transaction
from tests.api.conftest import serve
from tests.fleet.fleet_system import (
    Central,
    central_readings,
    site_config,
    site_count,
    site_readings,
    stop,
    wait_for,
)
from tests.monitor.test_engine import run_simulation

pytestmark = pytest.mark.slow

SITE = "ward-5"


@contextmanager
def uplinking(settings: Settings, config: Path, clock: ManualClock) -> Iterator[None]:
    """The site's real uplink, in a thread, on its own connection to the site's database file."""
    assert settings.fleet is not None
    uplink = Uplink(
        settings.db_path, settings.fleet, credentials_of(settings.fleet, config.parent), clock.wall
    )
    halt = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(halt,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        halt.set()
        thread.join(30)
        assert not thread.is_alive()


def simulate(settings: Settings, catalog: Catalog, clock: ManualClock, seconds: float) -> None:
    """The site's bridge writes ``seconds`` of readings (and whatever else the simulated fridge gives)."""
    run_simulation(settings, catalog, clock, seconds).close()


def uplinked_site(
    directory: Path, broker: PrivateMosquitto, catalog: Catalog, clock: ManualClock, seconds: float
) -> tuple[Path, Settings]:
    """A site's settings file and settings, ``seconds`` of readings simulated, its uplink enabled."""
    config = site_config(directory, SITE, broker.url)
    settings = load_settings(config)
    simulate(settings, catalog, clock, seconds)
    conn = sqlite3.connect(settings.db_path)
    with transaction(conn):
        outbox_store.enable(conn, SITE)
    conn.close()
    return config, settings


def drained(db: Path, central: Central) -> bool:
    site = central.sites().get(SITE, {})
    return site_count(db, "SELECT count(*) FROM uplink_outbox") == 0 and site.get("backlog") == 0


def central_gaps(url: str) -> list[str]:
    """Every gap record central holds for the site, as text (duplicates kept)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT record::text FROM site_records WHERE site = %s AND kind = 'gap'", (SITE,)
        ).fetchall()
    return [str(r[0]) for r in rows]


def epoch_alerts(db: Path) -> list[dict[str, object]]:
    """The site's new-epoch alerts, oldest first, as the alerts table holds them."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("SELECT * FROM alerts WHERE rule = ? ORDER BY id", (epoch_alert.RULE,)).fetchall()
    finally:
        conn.close()
    return [dict(r) for r in rows]


def standing_at_central(central: Central) -> list[str]:
    """The rules of the site's system alerts that stand at central now, as its fleet alert view has them."""
    alerts = central.get(f"/api/v1/fleet/alerts/current?site={SITE}")["alerts"]
    return [str(a["rule"]) for a in alerts if a["alert_class"] == "system"]


def test_a_copy_put_back_loses_no_row_of_either_timeline(
    tmp_path: Path,
    broker: PrivateMosquitto,
    postgres: str,
    catalog: Catalog,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A copy of the database put back numbers new rows that central holds from the lost timeline: the
    site sees central's digest differ, sends everything again as a new epoch, and central ends with every
    reading of both timelines once and reports the new epoch with its reason."""
    config, settings = uplinked_site(tmp_path, broker, catalog, clock, 300)
    db = settings.db_path
    central = Central(postgres, broker.url, tmp_path)
    central.start()
    try:
        with uplinking(settings, config, clock):
            wait_for(lambda: drained(db, central), 30, "central to acknowledge the first timeline")
        # The copy, taken while everything is stopped (no write-ahead log left beside the file).
        assert not db.with_name(db.name + "-wal").exists()
        copy = tmp_path / "copy.db"
        shutil.copyfile(db, copy)
        copied_through = site_count(copy, "SELECT seq FROM sqlite_sequence WHERE name = 'uplink_outbox'")

        # The timeline that will be lost: the original runs on and central commits it.
        simulate(settings, catalog, clock, 120)
        with uplinking(settings, config, clock):
            wait_for(lambda: drained(db, central), 30, "central to acknowledge the lost timeline")
        first = central.sites()[SITE]
        lost_epoch, lost_point = first["acknowledged"]["epoch"], first["acknowledged"]["through"]
        held_before = set(central_readings(postgres, SITE))
        gaps_before = central_gaps(postgres)

        # The copy put back; its bridge runs (later: time moved on) before its uplink starts.
        shutil.copyfile(copy, db)
        simulate(settings, catalog, clock, 400)
        restored_through = site_count(db, "SELECT seq FROM sqlite_sequence WHERE name = 'uplink_outbox'")
        # The case an acknowledgement beyond the database's last number cannot see: the copy's new
        # rows take every number that central holds from the lost timeline, and more.
        assert copied_through < lost_point <= restored_through

        with (
            caplog.at_level(logging.WARNING, logger="fleet.uplink.service"),
            uplinking(settings, config, clock),
        ):
            wait_for(lambda: drained(db, central), 30, "central to acknowledge the restored database")
        sites = central.sites()[SITE]
    finally:
        stop(central.process)

    held_now = site_readings(db)
    stored = central_readings(postgres, SITE)
    # Every reading of both timelines, once: what central held before (the shared start and the lost
    # timeline's) and what the restored database holds (the shared start and its own new readings).
    assert len(stored) == len(set(stored))
    assert set(stored) == held_before | held_now
    assert held_before - held_now, "the lost timeline's readings stay at central"
    assert held_now - held_before, "the restored database's new readings reach central"
    # "Equal" per site: central's counter is what the site now holds plus what central had committed
    # before that the site does not hold (the lost timeline), the shared start counted once.
    assert sites["readings"] == len(held_now) + len(held_before - held_now) == len(stored)
    # Gaps have no site id to guard them: the shared ones, sent again under the new epoch, stored once.
    gaps = central_gaps(postgres)
    assert len(gaps) == len(set(gaps))
    assert set(gaps_before) <= set(gaps)

    epochs = sites["epochs"]
    assert len(epochs) == 2
    assert epochs[0]["epoch"] == lost_epoch
    assert epochs[1]["parent"] == lost_epoch
    assert epochs[1]["base"] == copied_through  # the copy had every row acknowledged
    assert "not this database's" in epochs[1]["reason"]
    assert sites["restored_ts"] == epochs[1]["started_ts"]
    assert sites["acknowledged"]["epoch"] == epochs[1]["epoch"]
    assert any(
        "not this database's" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
    )
    # The site says so too: one system alert naming the new epoch, the one it replaced and why.
    (alert,) = epoch_alerts(db)
    assert alert["alert_class"] == "system"
    assert alert["state"] == "firing", "nobody has acknowledged it, so it stays open"
    message = str(alert["message"])
    assert "not this database's" in message
    assert f"new epoch {epochs[1]['epoch']} (replacing epoch {lost_epoch})" in message
    assert "acknowledge this alert" in message
    snapshot = json.loads(str(alert["snapshot"]))
    assert snapshot["epoch"] == epochs[1]["epoch"]
    assert snapshot["parent"] == lost_epoch
    assert snapshot["through"] == restored_through


def test_a_restored_database_alerts_until_acknowledged_and_caught_up(
    tmp_path: Path,
    broker: PrivateMosquitto,
    postgres: str,
    catalog: Catalog,
    clock: ManualClock,
) -> None:
    """A copy put back before it numbered anything new: central acknowledges numbers it never gave, so the
    uplink draws a new epoch and raises a system alert that reaches webhooks and ``/api/v1/alerts``; central
    catching up does not end it, a person's acknowledgement then does, once central holds the new epoch."""
    config, settings = uplinked_site(tmp_path, broker, catalog, clock, 120)
    db = settings.db_path
    central = Central(postgres, broker.url, tmp_path)
    central.start()
    try:
        with uplinking(settings, config, clock):
            wait_for(lambda: drained(db, central), 30, "central to acknowledge the first timeline")
        copy = tmp_path / "copy.db"
        shutil.copyfile(db, copy)
        simulate(settings, catalog, clock, 60)
        with uplinking(settings, config, clock):
            wait_for(lambda: drained(db, central), 30, "central to acknowledge the lost timeline")
        lost_epoch = central.sites()[SITE]["acknowledged"]["epoch"]

        shutil.copyfile(copy, db)
        hook = "http://127.0.0.1:9/hook"  # never delivered to: the outbox row is what the test reads
        conn = sqlite3.connect(db)
        with transaction(conn):
            webhook_store.sync_endpoints(conn, [hook])
        conn.close()
        with uplinking(settings, config, clock):
            wait_for(lambda: bool(epoch_alerts(db)) and drained(db, central), 30, "the restored database")
            new_epoch = central.sites()[SITE]["acknowledged"]["epoch"]
            assert new_epoch != lost_epoch
            (alert,) = epoch_alerts(db)
            # Central holds every row of the new epoch now; the alert waits for a person.
            assert alert["state"] == "firing"
            assert "beyond the last number this database gave" in str(alert["message"])
            changes = site_count(
                db,
                "SELECT count(*) FROM webhook_outbox"
                f" WHERE alert_id = {alert['id']} AND event_kind = 'fired'",
            )
            assert changes == 1, "the webhook receivers get it like any alert change"
            # It reached central through the outbox like any alert change: the fleet's alert side shows it.
            assert epoch_alert.RULE in standing_at_central(central)

            with serve(settings, clock) as site_api:
                page = site_api.client.get("/api/v1/alerts", params={"rule": epoch_alert.RULE}).json()
                (shown,) = page["alerts"]
                assert shown["alert_class"] == "system"
                assert shown["state"] == "firing"
                assert f"new epoch {new_epoch} (replacing epoch {lost_epoch})" in shown["message"]
                answer = site_api.writer.post(
                    f"/api/v1/alerts/{shown['id']}/ack",
                    json={"by": "pharmacist", "comment": "restored after the SD card failed"},
                )
                assert answer.status_code == 200, answer.text

                def resolved() -> bool:
                    page = site_api.client.get("/api/v1/alerts", params={"rule": epoch_alert.RULE}).json()
                    return bool(page["alerts"]) and page["alerts"][-1]["state"] == "resolved"

                wait_for(resolved, 30, "the acknowledged alert to resolve once central holds the new epoch")
            wait_for(
                lambda: epoch_alert.RULE not in standing_at_central(central), 30, "central to see it resolved"
            )
    finally:
        stop(central.process)
    (alert,) = epoch_alerts(db)
    assert alert["ack_by"] == "pharmacist"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    (detail,) = conn.execute(
        "SELECT detail FROM alert_events WHERE alert_id = ? AND kind = 'resolved'", (alert["id"],)
    ).fetchone()
    conn.close()
    assert detail.startswith(f"acknowledged by pharmacist and central holds epoch {new_epoch} through")
