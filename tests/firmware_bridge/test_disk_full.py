"""Running out of room: alerted while there is room to say so; a full disk corrupts nothing; damage found."""

from __future__ import annotations

import resource
import signal
import sqlite3
import time
from contextlib import closing
from importlib import resources
from pathlib import Path

from hardware.clock import ManualClock
from monitor.config import Settings
from monitor.integrity import check_database
from monitor.model.profiles import Catalog
from monitor.outages import UNCLEAN_SHUTDOWN_RULE
from monitor.storage_health import CORRUPT_RULE, DISK_RULE, apply, check_soundness, free_bytes
from monitor.store import Database, alerts
from tests.firmware_bridge.bridge_process import sim_origin, start_bridge, wait_for_readings
from tests.monitor.test_engine import open_engine, run_simulation

HEADROOM_BYTES = 400_000
SPEED = 600.0  # about 300 readings, 25 kB, a commit: the alert has commits to spare before the limit
ALERT_BELOW_MB = 0.3
FULL_TIMEOUT_SECONDS = 60.0


def test_alert_opens_below_the_threshold_and_resolves_above(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Less room than asked for: one critical system alert naming the room left; room again: resolved."""
    conn, _ = open_engine(settings, catalog, clock)
    assert apply(conn, settings.db_path, clock.wall(), 1e18) == 1
    assert apply(conn, settings.db_path, clock.wall(), 1e18) == 0  # one alert, not one per commit
    (alert,) = alerts.open_alerts(conn).values()
    assert (alert.rule, alert.severity, alert.alert_class) == (DISK_RULE, "critical", "system")
    assert "MB left for the database" in alert.message
    assert apply(conn, settings.db_path, clock.wall(), 0.0) == 1
    assert alerts.open_alerts(conn) == {}
    assert free_bytes(settings.db_path) > 0


def _site(tmp_path: Path) -> Path:
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    text = text[: text.index("[bridge]")]
    path = tmp_path / "site.toml"
    path.write_text(
        text
        + f"[bridge]\nbatch_seconds = 0.5\ncommit_seconds = 0.5\nmin_free_megabytes = {ALERT_BELOW_MB}\n",
        "utf-8",
    )
    return path


def _largest(db: Path) -> int:
    return max(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def test_a_file_size_limit_alerts_then_fails_commits_without_corruption(tmp_path: Path) -> None:
    """Under RLIMIT_FSIZE: alerted before commits fail; the database stays sound; a restart resumes."""
    db = tmp_path / "v.db"
    log_path = tmp_path / "bridge.log"
    config = ("--config", str(_site(tmp_path)))
    with log_path.open("wb") as log:
        proc = start_bridge(db, speed=SPEED, extra=config, stdout=log)
        try:
            wait_for_readings(proc, db, 1)
            limit = _largest(db) + HEADROOM_BYTES
            resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (limit, limit))
            deadline = time.monotonic() + FULL_TIMEOUT_SECONDS
            while b"could not store a batch" not in log_path.read_bytes():
                assert time.monotonic() < deadline, log_path.read_text()
                assert proc.poll() is None, log_path.read_text()
                time.sleep(0.1)  # a real process filling a real file
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    text = log_path.read_text()
    assert proc.returncode == 0, text
    assert "could not store" in text
    conn = Database(db).connect()
    with closing(conn):
        assert check_database(conn).problems == []
        (alert,) = [a for a in alerts.changed_since(conn, 0) if a.rule == DISK_RULE]
        assert alert.state == "firing"

    proc = start_bridge(db, speed=SPEED, extra=(*config, "--sim-origin", repr(sim_origin(db))))
    try:
        wait_for_readings(proc, db, 100)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    conn = Database(db).connect()
    with closing(conn):
        assert check_database(conn).problems == []
        rules = {a.rule for a in alerts.changed_since(conn, 0)}
        assert UNCLEAN_SHUTDOWN_RULE in rules  # the readings it could not store were lost, and said so


def _corrupt_a_reading_page(db: Path) -> None:
    """Overwrite a leaf page of the light readings with garbage, as a failing SD card might."""
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'light_readings'").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    victim = next(p for p in range(pages, 1, -1) if p != root)  # a late page: readings, not the schema
    with db.open("r+b") as f:
        f.seek((victim - 1) * page_size)
        f.write(b"\xa5" * page_size)


def test_corruption_is_found_and_alerted(settings: Settings, catalog: Catalog, clock: ManualClock) -> None:
    """A damaged page: the quick check names it and a critical database-corrupt alert is stored."""
    run_simulation(settings, catalog, clock, 900.0).close()
    assert check_soundness(settings.db_path, clock.wall()) == ("ok",)
    _corrupt_a_reading_page(settings.db_path)
    found = check_soundness(settings.db_path, clock.wall())
    assert found != ("ok",)
    conn = Database(settings.db_path).connect()
    with closing(conn):
        (alert,) = [a for a in alerts.changed_since(conn, 0) if a.rule == CORRUPT_RULE]
    assert alert.severity == "critical"
    assert alert.alert_class == "system"
    assert found[0] in alert.message
