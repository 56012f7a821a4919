"""Exactly-once under faults, with the real engines: the broker SIGKILLed (persistence off), central
SIGKILLed, PostgreSQL stopped with ``-m immediate``, a site's uplink SIGKILLed, while two simulated sites
keep writing. Afterwards central holds each site's readings exactly (no gap, no duplicate) and every alert
change once, and the fleet's alert feed was only ever read forward."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import urllib.error
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from fleet.engines.mosquitto import PrivateMosquitto
from fleet.engines.postgres import PrivatePostgres
from monitor.store import Database
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

pytestmark = pytest.mark.slow

SITES = ("north", "south")
SPEED = "60"  # simulated seconds a second: a light reading every 1/60 s per site


class FeedFollower(threading.Thread):
    """Reads the alert feed forward from its last cursor, as a client would, through every fault."""

    def __init__(self, central: Central) -> None:
        super().__init__(daemon=True)
        self.central = central
        self.seen: list[int] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                page = self.central.get(f"/api/v1/fleet/alerts?after={self.seen[-1] if self.seen else 0}")
            except (OSError, urllib.error.URLError):  # central or its database down: read on later
                page = {"changes": []}
            self.seen += [c["cursor"] for c in page["changes"]]
            self.halt.wait(0.2)


def _progress(central: Central) -> Callable[[], bool]:
    """A condition: every site has more readings at central than now (central answering)."""
    before = {s: central.sites().get(s, {}).get("readings", 0) for s in SITES}

    def moved() -> bool:
        try:
            now = central.sites()
        except (OSError, urllib.error.URLError):
            return False
        return all(now.get(s, {}).get("readings", 0) > before[s] for s in SITES)

    return moved


def _try_progress(central: Central) -> Callable[[], bool]:
    wait_for(lambda: _answers(central), 60, "central to answer")
    return _progress(central)


def _answers(central: Central) -> bool:
    try:
        central.sites()
    except (OSError, urllib.error.URLError):
        return False
    return True


def test_every_row_arrives_once_through_every_fault(
    tmp_path: Path, broker: PrivateMosquitto, postgres: str, postgres_cluster: PrivatePostgres
) -> None:
    """Counts equal per site, the same readings, no duplicate, every alert change once, the feed's
    cursor contiguous and only ever read forward."""
    configs = {s: site_config(tmp_path, s, broker.url) for s in SITES}
    for site in SITES:  # the outbox on from the first write, so every alert change is queued
        db = Database(tmp_path / f"{site}.db")
        db.initialise()
        conn = db.connect()
        with transaction(conn):
            outbox_store.enable(conn, site)
        conn.close()
    central = Central(postgres, broker.url, tmp_path)
    central.start()
    bridges: dict[str, subprocess.Popen[bytes]] = {}
    uplinks: dict[str, subprocess.Popen[bytes]] = {}
    for site, config in configs.items():
        bridges[site] = vialguard(
            "bridge",
            "--simulate",
            "--speed",
            SPEED,
            "--config",
            str(config),
            "--scenario",
            "door-left-open@1m+20m",
            log=tmp_path / f"{site}-bridge.log",
        )
        uplinks[site] = vialguard("uplink", "--config", str(config), log=tmp_path / f"{site}-uplink.log")
    follower = FeedFollower(central)
    follower.start()
    try:
        wait_for(_progress(central), 90, "both sites' first readings at central")

        moved = _progress(central)
        broker.kill()  # persistence off: every queued message and retained acknowledgement is lost
        time.sleep(1.0)
        broker.start()
        wait_for(moved, 60, "readings after the broker was killed")

        moved = _progress(central)
        assert central.process is not None
        central.process.send_signal(signal.SIGKILL)
        central.process.wait()
        central.start()
        wait_for(moved, 60, "readings after central was killed")

        moved = _progress(central)
        postgres_cluster.stop("immediate")
        time.sleep(2.0)
        postgres_cluster.start()
        wait_for(moved, 60, "readings after PostgreSQL stopped immediately")

        moved = _try_progress(central)
        uplinks["north"].send_signal(signal.SIGKILL)
        uplinks["north"].wait()
        uplinks["north"] = vialguard(
            "uplink", "--config", str(configs["north"]), log=tmp_path / "north-uplink.log"
        )
        wait_for(moved, 60, "readings after a site's uplink was killed")

        for bridge in bridges.values():
            stop(bridge)
        expected = {s: site_readings(tmp_path / f"{s}.db") for s in SITES}

        def converged() -> bool:
            sites = central.sites()
            return all(sites[s]["readings"] == len(expected[s]) and sites[s]["backlog"] == 0 for s in SITES)

        wait_for(converged, 90, "central to hold every site's readings")
        time.sleep(1.0)  # the follower's last poll
    finally:
        follower.halt.set()
        for process in (*bridges.values(), *uplinks.values(), central.process):
            stop(process)
        follower.join(5)

    for site in SITES:
        stored = central_readings(postgres, site)
        assert len(stored) == len(set(stored))  # no duplicate
        assert set(stored) == expected[site]  # no gap, nothing invented
    with psycopg.connect(postgres) as conn:
        for site in SITES:
            changes = conn.execute(
                "SELECT count(*), count(DISTINCT event_seq) FROM alert_feed WHERE site = %s", (site,)
            ).fetchone()
            assert changes is not None
            site_changes = site_count(tmp_path / f"{site}.db", "SELECT count(*) FROM alert_events")
            assert site_changes > 0
            assert tuple(changes) == (site_changes, site_changes)
        cursors = [int(r[0]) for r in conn.execute("SELECT cursor FROM alert_feed ORDER BY cursor")]
    assert cursors == list(range(1, len(cursors) + 1))
    assert follower.seen == cursors  # read forward only: nothing appeared behind the cursor
