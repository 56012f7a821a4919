"""Rows flow from a site's SQLite to central's PostgreSQL: counts equal, nothing twice, the site's outbox
emptied only by central's acknowledgements."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from fleet.engines.mosquitto import PrivateMosquitto
from hardware.clock import ManualClock
from monitor.config import load_settings
from monitor.model.profiles import Catalog
from monitor.store import outbox as outbox_store
from monitor.store.database import transaction
from tests.fleet.fleet_system import (
    Central,
    central_readings,
    site_config,
    site_count,
    site_readings,
    stop,
    vialguard,
    wait_for,
)
from tests.monitor.test_engine import run_simulation, with_scenario
from tests.system_process import free_port

pytestmark = pytest.mark.slow


def test_a_sites_history_reaches_central_exactly_once(
    tmp_path: Path, broker: PrivateMosquitto, postgres: str, catalog: Catalog, clock: ManualClock
) -> None:
    """A site with an hour of history and alerts joins the fleet: central stores every reading once, every
    alert change in its feed, and the site's outbox empties."""
    config = site_config(tmp_path, "ward-3", broker.url)
    settings = load_settings(config)
    settings = with_scenario(
        settings, kind="door-left-open", start_after_seconds=300, duration_seconds=900, lux=600
    )
    conn = run_simulation(settings, catalog, clock, 3600)
    with transaction(conn):
        outbox_store.enable(conn, "ward-3")
    conn.close()
    db = settings.db_path
    central = Central(postgres, broker.url, tmp_path)
    central.start()
    uplink = vialguard("uplink", "--config", str(config), log=tmp_path / "uplink.log")
    try:
        expected = site_readings(db)
        wait_for(
            lambda: (
                central.sites().get("ward-3", {}).get("readings") == len(expected)
                and central.sites()["ward-3"]["backlog"] == 0
            ),
            60,
            "central to hold the site's readings",
        )
        wait_for(lambda: site_count(db, "SELECT count(*) FROM uplink_outbox") == 0, 30, "the outbox to empty")
    finally:
        stop(uplink)
        stop(central.process)
    stored = central_readings(postgres, "ward-3")
    assert len(stored) == len(set(stored))
    assert set(stored) == expected
    summary = central_rows(postgres)
    alert_changes = site_count(db, "SELECT count(*) FROM alerts")  # back-filled: each as it stands
    assert alert_changes > 0
    assert summary["alert_feed"] == list(range(1, alert_changes + 1))
    site = central_sites_row(postgres)
    assert site["readings"] == len(expected)


def central_rows(url: str) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        feed = [int(r[0]) for r in conn.execute("SELECT cursor FROM alert_feed ORDER BY cursor").fetchall()]
    return {"alert_feed": feed}


def central_sites_row(url: str) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT site, readings FROM sites").fetchone()
    assert row is not None
    return {"site": row[0], "readings": int(row[1])}


def test_vialguard_run_supervises_the_uplink(tmp_path: Path, broker: PrivateMosquitto, postgres: str) -> None:
    """`vialguard run` with a [fleet] table starts the uplink beside the bridge: readings reach central."""
    config = site_config(tmp_path, "ward-4", broker.url)
    central = Central(postgres, broker.url, tmp_path)
    central.start()
    run = vialguard(
        "run",
        "--simulate",
        "--speed",
        "60",
        "--config",
        str(config),
        "--port",
        str(free_port()),
        log=tmp_path / "run.log",
    )
    try:
        wait_for(lambda: central.sites().get("ward-4", {}).get("readings", 0) > 0, 90, "readings at central")
    finally:
        stop(run)
        stop(central.process)
    assert site_count(tmp_path / "ward-4.db", "SELECT count(*) FROM uplink_state") == 1
