"""A site's database copied by hand and put back: it keeps its epoch and its counter, numbers new rows
that central already holds under those numbers from the timeline it lost, and must lose neither."""

from __future__ import annotations

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
from fleet.uplink.service import Uplink, credentials_of
from hardware.clock import ManualClock
from monitor.config import Settings, load_settings
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
    config = site_config(tmp_path, SITE, broker.url)
    settings = load_settings(config)
    db = settings.db_path
    simulate(settings, catalog, clock, 300)
    conn = sqlite3.connect(db)
    with transaction(conn):
        outbox_store.enable(conn, SITE)
    conn.close()
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
