"""One clock: writes beside a running simulation are on its timeline; a simulation resumes after
everything it recorded; token expiry never runs back with a wall clock stepped back."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
import tomllib
from contextlib import closing
from importlib import resources
from pathlib import Path

import pytest

from hardware.clock import WarpClock
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.model.profiles import Catalog
from monitor.resume import last_recorded_ts
from monitor.site_sync import sync_site
from monitor.store import Database, clocks
from monitor.store import audit as audit_store
from monitor.store import tokens as token_store
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from monitor.store.spool import Spool
from monitor.timestamps import iso_utc
from monitor.tokens import ExpiryClock
from tests.firmware_bridge.bridge_process import start_bridge, wait_for_readings
from vialguard import clocks as system_clocks
from vialguard.cli import main

DAY = 86_400.0


def _database(settings: Settings, origin: float) -> Database:
    db = Database(settings.db_path)
    db.initialise()
    with closing(db.connect()) as conn:
        sync_site(conn, settings, origin)
    return db


def test_a_console_event_beside_a_running_simulation_is_on_its_timeline(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vials event` while a 600x simulation runs 30 days ahead: stamped at its time, not the machine's."""
    sim_origin = time.time() + 30 * DAY
    # The vials registered a simulated day before, with no readings since: light nobody saw. The carton is
    # not opaque (board passes 1.4 %, spectral_model.toml), so unbounded unseen light would make even the
    # boxed vial's low bound 0 %; a dark fridge's worst case bounds it, as a site would configure.
    shipped = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    config = tmp_path / "site.toml"
    config.write_text(shipped.replace('kind = "fridge"\n', 'kind = "fridge"\nworst_case_lux = 10.0\n', 1))
    settings = parse_settings(
        tomllib.loads(config.read_text(encoding="utf-8")), str(config), {"db_path": settings.db_path}
    )
    assert settings.locations[0].worst_case_lux == 10.0
    db = _database(settings, sim_origin - DAY)
    with closing(db.connect()) as conn:
        # As `vialguard run` publishes it; this test process stands for the running supervisor.
        system_clocks.record(conn, WarpClock(600.0, sim_origin, time.monotonic()), os.getpid())
    where = ["--simulate", "--config", str(config), "--db", str(settings.db_path)]
    assert main(["vials", "event", "roze-0001", "reconstituted", "--ago", "10m", *where]) == 0, (
        capsys.readouterr().err
    )
    with closing(db.connect()) as conn:
        vial = vial_store.by_key(conn, "roze-0001")
        assert vial is not None
        event = next(e for e in vial_store.events(conn, vial.id) if e.kind == "reconstituted")
        assert sim_origin - 600 <= event.ts  # ten simulated minutes before the simulation's now
        assert event.recorded_ts >= sim_origin
        (row,) = [r for r in audit_store.entries(conn) if r.action == "vial.reconstituted"]
        assert row.ts >= sim_origin
    capsys.readouterr()
    # Listed on the same timeline: the label's limit after reconstitution has not passed in an instant.
    assert main(["vials", "list", "--json", *where]) == 0
    roze = next(r for r in json.loads(capsys.readouterr().out) if r["key"] == "roze-0001")
    assert roze["verdict"]["limited_by"] == "label"
    assert roze["verdict"]["verdict"] == "use"
    assert roze["verdict"]["hours_left"] > 0
    assert roze["verdict_at"] >= (iso_utc(sim_origin) or "")  # judged at the simulation's now


def test_a_stopped_simulation_is_joined_after_its_last_record(settings: Settings, catalog: Catalog) -> None:
    """No simulation running, its readings days ahead: a console write lands after them, not before."""
    ahead = _engine_with_readings(settings, catalog, time.time() + 30 * DAY, 10)
    db = Database(settings.db_path)
    with closing(db.connect()) as conn:
        dead = WarpClock(600.0, ahead, time.monotonic())
        system_clocks.record(conn, dead, 2**22 + 12345)  # a pid no process has
        assert system_clocks.running(conn) is None
        assert system_clocks.system_now(conn, settings.db_path) > ahead


def _engine_with_readings(settings: Settings, catalog: Catalog, start: float, n: int) -> float:
    db = _database(settings, start)
    with closing(db.connect()) as conn:
        engine = Engine(conn, catalog, default_rules(settings.rules.thresholds()))
        batch = Batch(
            light=[LightReading("fridge-1-lux", start + i, 0.0) for i in range(n)],
            temperature=[TemperatureReading("fridge-1-temp", start + i, 5.0) for i in range(n)],
        )
        engine.ingest(batch, start + n)
    return start + n - 1


def test_the_resume_point_is_after_spooled_readings(settings: Settings, catalog: Catalog) -> None:
    """Readings spooled after the last commit count: the resumed clock starts after them."""
    committed = _engine_with_readings(settings, catalog, time.time() + 10 * DAY, 30)
    spooled_until = committed + 500.0
    spool = Spool(Spool.beside(settings.db_path))
    spool.append(Batch(light=[LightReading("fridge-1-lux", spooled_until, 0.0)]))
    spool.close()
    with closing(Database(settings.db_path).connect()) as conn:
        assert last_recorded_ts(conn, Spool.beside(settings.db_path)) == spooled_until


def test_a_bridge_started_alone_after_a_crash_resumes_after_the_replayed_spool(
    settings: Settings, catalog: Catalog
) -> None:
    """A simulation days ahead, a spool left by a crash: the new readings follow the spooled ones."""
    db = settings.db_path
    committed = _engine_with_readings(settings, catalog, time.time() + 10 * DAY, 30)
    spooled = [committed + 100.0 + i for i in range(20)]
    spool = Spool(Spool.beside(db))
    spool.append(Batch(light=[LightReading("fridge-1-lux", ts, 0.0) for ts in spooled]))
    spool.close()
    proc = start_bridge(db, speed=60.0)
    try:
        wait_for_readings(proc, db, 1)  # its first heartbeat: the count from which to wait
        wait_for_readings(proc, db, 40)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode()
    with closing(sqlite3.connect(db)) as conn:
        times = {float(t) for (t,) in conn.execute("SELECT ts FROM light_readings")}
        (started,) = conn.execute("SELECT started_ts FROM bridge_runs ORDER BY id DESC LIMIT 1").fetchone()
        (beat,) = conn.execute("SELECT sim_ts FROM heartbeat").fetchone()
    # The clock itself resumed after the replayed readings: the run starts, and beats, after them.
    assert started > spooled[-1]
    assert beat > spooled[-1]
    assert set(spooled) <= times  # the spool was replayed
    new = times - set(spooled) - {ts for ts in times if ts <= committed}
    # Of the 40 readings it took (light at 1 Hz, temperature at 0.1 Hz), none dropped as older than the tail.
    assert len(new) >= 30, f"the resumed bridge stored {len(new)} readings of its own"
    assert min(new) > spooled[-1]  # after the replayed readings, never among or before them


def test_token_expiry_survives_a_backward_step_of_the_wall_clock() -> None:
    """Stepped back an hour: the expiry clock carries the time seen forward on the monotonic clock."""
    clock = ExpiryClock()
    assert clock.now(wall=1_000.0, monotonic=10.0) == 1_000.0
    assert clock.now(wall=1_000.0 - 3600, monotonic=11.0) == 1_001.0  # stepped back: carried
    assert clock.now(wall=1_000.0 - 3590, monotonic=21.0) == 1_011.0
    assert clock.now(wall=1_020.0, monotonic=22.0) == 1_020.0  # the wall clock caught up
    floored = ExpiryClock(5_000.0)
    assert floored.now(wall=1_000.0, monotonic=3.0) == 5_000.0
    assert floored.now(wall=1_000.0, monotonic=4.0) == 5_001.0


def test_an_expired_token_stays_expired_after_a_step_back_and_a_restart(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """The high-water mark is in the database: a console listing after the step still says expired."""
    db = _database(settings, time.time())
    now = time.time()
    with closing(db.connect()) as conn, transaction(conn):
        token_store.create(conn, "contractor", "read", now, now + 60.0)
        # The clock read an hour later than now before it was stepped back to now.
        clocks.raise_real_high_water(conn, now + 3600.0)
    assert main(["token", "list", "--json", "--simulate", "--db", str(settings.db_path)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["state"] == "expired"
