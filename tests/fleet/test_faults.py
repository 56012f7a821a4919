"""Exactly-once under faults, with the real engines, while three simulated sites keep writing: the broker
SIGKILLed (persistence off), central SIGKILLed, PostgreSQL stopped with ``-m immediate``, one site's
bridge and uplink SIGKILLed together, and the broker down for a simulated day. The order and the times
come from a seed, printed first (``VIALGUARD_FAULT_SEED=N`` repeats a run). Afterwards central holds
each site's readings, gaps, vial events, alert changes and audit rows exactly as the site's own database
does, every number of the site's epoch once, and the fleet's alert feed was only ever read forward."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from fleet.engines.mosquitto import PrivateMosquitto
from fleet.engines.postgres import PrivatePostgres
from monitor.store import Database
from monitor.store import audit as audit_store
from monitor.store import outbox as outbox_store
from monitor.store.database import transaction
from tests.fleet.fleet_system import (
    Central,
    central_readings,
    site_config,
    site_readings,
    stop,
    vialguard,
    wait_for,
)

pytestmark = pytest.mark.slow

SITES = ("north", "south", "east")
# Fast enough that the broker's simulated day of absence takes 6 s: a light reading every 2 simulated
# minutes is then 120 a second per site, which the bridge keeps up with on a loaded 2-core machine.
SPEED = 14_400.0
SAMPLE_SECONDS = (120.0, 600.0)
DAY_SECONDS = 86_400.0
# Raised within the day's outage, so the backlog alert's firing and clearing travel to central too.
FLEET_EXTRA = "backlog_alert_seconds = 3.0\n"


@dataclass
class Site:
    name: str
    directory: Path
    mqtt_url: str
    config: Path = field(init=False)
    bridge: subprocess.Popen[bytes] | None = None
    uplink: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.config = site_config(self.directory, self.name, self.mqtt_url, SAMPLE_SECONDS, FLEET_EXTRA)

    @property
    def db(self) -> Path:
        return self.directory / f"{self.name}.db"

    def _simulated(self, command: str, *extra: str) -> subprocess.Popen[bytes]:
        return vialguard(
            command,
            "--simulate",
            "--speed",
            repr(SPEED),
            "--config",
            str(self.config),
            *extra,
            log=self.directory / f"{self.name}-{command}.log",
        )

    def start(self) -> None:
        self.bridge = self._simulated("bridge", "--scenario", "door-left-open@1h+6h")
        self.uplink = self._simulated("uplink")

    def kill(self) -> None:
        for process in (self.bridge, self.uplink):
            assert process is not None
            process.send_signal(signal.SIGKILL)
            process.wait()

    def note(self, text: str) -> None:
        """An operator's action at the site: one audit row, chained like any other."""
        conn = Database(self.db).connect()
        try:
            with transaction(conn):
                audit_store.append(conn, time.time(), "fault-test", "note", self.name, {"text": text})
        finally:
            conn.close()


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


def _readings_at(central: Central) -> dict[str, int] | None:
    try:
        sites = central.sites()
    except (OSError, urllib.error.URLError):  # central, or its database, is down
        return None
    return {s: sites.get(s, {}).get("readings", 0) for s in SITES}


def _progress(central: Central) -> Callable[[], bool]:
    """A condition: every site has more readings at central than when this was called (or central first
    answers)."""
    before = _readings_at(central)

    def moved() -> bool:
        nonlocal before
        now = _readings_at(central)
        if now is None:
            return False
        if before is None:
            before = now
            return False
        return all(now[s] > before[s] for s in SITES)

    return moved


@dataclass
class Fleet:
    rng: random.Random
    broker: PrivateMosquitto
    central: Central
    postgres: PrivatePostgres
    sites: dict[str, Site]
    log: list[str] = field(default_factory=list)

    def pause(self, low: float, high: float) -> float:
        seconds = self.rng.uniform(low, high)
        time.sleep(seconds)
        return seconds

    def kill_broker(self) -> None:
        self.broker.kill()  # persistence off: every queued message and retained acknowledgement is lost
        down = self.pause(0.1, 1.2)
        self.broker.start()
        self.log.append(f"broker SIGKILLed, down {down:.1f} s")

    def kill_central(self) -> None:
        assert self.central.process is not None
        self.central.process.send_signal(signal.SIGKILL)
        self.central.process.wait()
        down = self.pause(0.0, 1.2)
        self.central.start()
        self.log.append(f"central SIGKILLed, down {down:.1f} s")

    def stop_postgres(self) -> None:
        self.postgres.stop("immediate")
        down = self.pause(0.1, 1.2)
        self.postgres.start()
        self.log.append(f"PostgreSQL stopped -m immediate, down {down:.1f} s")

    def kill_site(self) -> None:
        site = self.sites[self.rng.choice(SITES)]
        site.kill()
        down = self.pause(0.0, 1.2)
        site.start()
        self.log.append(f"{site.name}'s bridge and uplink SIGKILLed, down {down:.1f} s")

    def broker_away_for_a_day(self) -> None:
        self.broker.kill()
        time.sleep(DAY_SECONDS / SPEED)
        self.broker.start()
        self.log.append("broker down for a simulated day")


def test_every_row_arrives_once_through_every_fault(
    tmp_path: Path, broker: PrivateMosquitto, postgres: str, postgres_cluster: PrivatePostgres
) -> None:
    """Per site, central holds what the site holds (readings, gaps, vial events, alert changes, audit
    rows), every number of the epoch once, the alert feed's cursor contiguous and read forward only."""
    seed = int(os.environ.get("VIALGUARD_FAULT_SEED") or random.randrange(2**32))
    print(f"fault seed {seed}: VIALGUARD_FAULT_SEED={seed} repeats this run")  # shown on failure
    rng = random.Random(seed)
    sites = {s: Site(s, tmp_path, broker.url) for s in SITES}
    for site in sites.values():  # the outbox on from the first write, so every alert change is queued
        db = Database(site.db)
        db.initialise()
        conn = db.connect()
        with transaction(conn):
            outbox_store.enable(conn, site.name)
        conn.close()
    central = Central(postgres, broker.url, tmp_path)
    central.start()
    for site in sites.values():
        site.start()
    fleet = Fleet(rng, broker, central, postgres_cluster, sites)
    faults = [
        fleet.kill_broker,
        fleet.kill_central,
        fleet.stop_postgres,
        fleet.kill_site,
        fleet.broker_away_for_a_day,
    ]
    rng.shuffle(faults)
    follower = FeedFollower(central)
    follower.start()
    try:
        wait_for(_progress(central), 90, "every site's first readings at central")
        for fault in faults:
            fleet.pause(0.0, 1.0)  # the fault strikes at a random moment of the sites' writing
            for site in sites.values():
                site.note(f"before {fault.__name__}")
            moved = _progress(central)
            fault()
            wait_for(moved, 60, f"readings at central after: {fleet.log[-1]}")
        print("faults:", "; ".join(fleet.log))  # shown on failure

        for site in sites.values():
            stop(site.bridge)
        wait_for(lambda: all(_caught_up(s, postgres) for s in sites.values()), 90, "central to catch up")
        for site in sites.values():
            stop(site.uplink)
        api_readings = {s: central.sites()[s]["readings"] for s in SITES}
        time.sleep(0.5)  # the follower's last poll
    finally:
        follower.halt.set()
        for process in (*(p for s in sites.values() for p in (s.bridge, s.uplink)), central.process):
            stop(process)
        follower.join(5)

    with psycopg.connect(postgres) as pg:
        for site in sites.values():
            mirrored = _compare(site, pg, postgres)
            assert api_readings[site.name] == mirrored["readings"]
            assert all(mirrored[k] > 0 for k in ("readings", "alert changes", "audit rows", "vial events"))
            assert _site_scalar(site.db, "SELECT count(*) FROM alerts WHERE rule = 'uplink-backlog'") > 0
        cursors = [int(r[0]) for r in pg.execute("SELECT cursor FROM alert_feed ORDER BY cursor")]
    assert cursors == list(range(1, len(cursors) + 1))
    assert follower.seen == cursors  # read forward only: nothing appeared behind the cursor


def _site_scalar(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def _site_ids(db: Path, sql: str) -> set[int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {int(r[0]) for r in conn.execute(sql)}
    finally:
        conn.close()


def _caught_up(site: Site, postgres: str) -> bool:
    """Central has acknowledged every number the site gave, and no backlog alert is still firing there
    (its clearing is itself a row to send)."""
    conn = sqlite3.connect(f"file:{site.db}?mode=ro", uri=True)
    try:
        state = outbox_store.state(conn)
        last = outbox_store.last_seq(conn)
        firing = conn.execute(
            "SELECT count(*) FROM alerts WHERE rule = 'uplink-backlog' AND state = 'firing'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert state is not None
    with psycopg.connect(postgres) as pg:
        row = pg.execute(
            "SELECT acked_seq FROM site_epochs WHERE site = %s AND epoch = %s", (site.name, state.epoch)
        ).fetchone()
    return row is not None and int(row[0]) == last and state.acked_seq == last and firing == 0


def _central_keys(pg: psycopg.Connection[tuple[object, ...]], site: str, kind: str) -> list[int]:
    return [
        int(str(r[0]))
        for r in pg.execute(
            "SELECT natural_key FROM site_records WHERE site = %s AND kind = %s", (site, kind)
        )
    ]


def _compare(site: Site, pg: psycopg.Connection[tuple[object, ...]], url: str) -> dict[str, int]:
    """Assert central mirrors ``site`` kind by kind and number by number; how many of each it holds."""
    db = site.db
    readings = central_readings(url, site.name)
    assert len(readings) == len(set(readings)), "a reading stored twice"
    assert set(readings) == site_readings(db)

    counts = {"readings": len(readings)}
    mirrored = {
        "vial events": ("vial-event", "SELECT id FROM vial_events"),
        "alert changes": ("alert", "SELECT seq FROM alert_events"),
        "audit rows": ("audit", "SELECT id FROM audit_log"),
    }
    for name, (kind, sql) in mirrored.items():
        keys = _central_keys(pg, site.name, kind)
        assert len(keys) == len(set(keys)), f"{name}: stored twice"
        assert set(keys) == _site_ids(db, sql), f"{site.name}: {name} differ"
        counts[name] = len(keys)
    # A gap's id may be reused once it is removed: replay additions and removals in the site's order.
    gaps: set[int] = set()
    for kind, gap_id in pg.execute(
        "SELECT kind, record->>'id' FROM site_records WHERE site = %s AND kind IN ('gap', 'gap-removed')"
        " ORDER BY epoch, seq",
        (site.name,),
    ):
        (gaps.add if kind == "gap" else gaps.discard)(int(str(gap_id)))
    assert gaps == _site_ids(db, "SELECT id FROM gaps"), f"{site.name}: gaps differ"
    counts["gaps"] = len(gaps)
    feed = [
        int(str(r[0])) for r in pg.execute("SELECT event_seq FROM alert_feed WHERE site = %s", (site.name,))
    ]
    assert sorted(feed) == sorted(_site_ids(db, "SELECT seq FROM alert_events"))

    # Every number of the site's epoch stored once: the rows central holds for it are exactly the numbers
    # from the epoch's base to its acknowledged point (each a reading or a record, never both, never none).
    epochs = pg.execute(
        "SELECT epoch, base_seq, acked_seq FROM site_epochs WHERE site = %s", (site.name,)
    ).fetchall()
    assert len(epochs) == 1
    epoch, base, acked = epochs[0]
    seqs = [
        int(str(r[0]))
        for r in pg.execute(
            "SELECT seq FROM site_records WHERE site = %s AND epoch = %s ORDER BY seq", (site.name, epoch)
        )
    ]
    assert all(int(str(base)) < s <= int(str(acked)) for s in seqs)
    assert len(readings) + len(seqs) == int(str(acked)) - int(str(base))
    # The site's chain verified at central, which pinned the head the site's own check finds.
    conn = Database(db).connect()
    try:
        check = audit_store.check(conn)
    finally:
        conn.close()
    head = pg.execute(
        "SELECT rows, head_hash, problem FROM audit_heads WHERE site = %s", (site.name,)
    ).fetchone()
    assert check.intact
    assert head == (check.rows, check.head_hash, None)
    print(site.name, counts)  # the figures, shown with -rA or on failure
    return counts
