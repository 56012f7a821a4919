"""The bridge process stopped by systemd (SIGTERM) and killed outright (SIGKILL), then started again."""

from __future__ import annotations

import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from hardware.clock import ManualClock
from monitor.config import Settings
from monitor.integrity import check_database
from monitor.model.profiles import Catalog
from monitor.outages import UNCLEAN_SHUTDOWN_RULE
from monitor.store import Database, alerts, runs
from monitor.store.spool import Spool, read_spool
from tests.firmware_bridge.bridge_process import sim_origin, site_config, start_bridge, wait_for_readings
from tests.monitor.test_engine import run_simulation

TABLES = ("light_readings", "temperature_readings")
STOP_SECONDS = 5.0  # systemd's budget in the requirement; its default TimeoutStopSec is longer


@pytest.mark.parametrize(
    ("batch_seconds", "commit_seconds"),
    [(60.0, 60.0), (2.0, 30.0)],
    ids=["one-long-batch-no-spool", "spooled-between-commits"],
)
def test_sigterm_flushes_marks_clean_and_exits_within_5_s(
    tmp_path: Path, batch_seconds: float, commit_seconds: float
) -> None:
    """SIGTERM: exit 0 within 5 s, the held batch stored, the run marked clean, the database sound."""
    db = tmp_path / "v.db"
    config = site_config(tmp_path, batch_seconds=batch_seconds, commit_seconds=commit_seconds)
    proc = start_bridge(db, extra=("--config", str(config)))
    try:
        wait_for_readings(proc, db, 1)  # the first poll is committed at once, the next in 30 or 60 s
        time.sleep(1.0)  # a second of readings (60 s simulated) taken and held in the batch
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=STOP_SECONDS)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.decode()
    assert proc.returncode == 0, text
    assert took < STOP_SECONDS
    assert "bridge stopped cleanly" in text
    conn = Database(db).connect()
    with closing(conn):
        last = runs.last(conn)
        assert last is not None
        assert last.stopped_ts is not None
        stored = sum(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES)
        assert stored > 2 * 30  # the held batch was flushed: about 60 light and 6 temperature readings
        assert check_database(conn).problems == []
    assert read_spool(Spool.beside(db)).batch.light == []  # nothing left to replay


def test_sigkill_then_restart_alerts_the_outage(tmp_path: Path) -> None:
    """SIGKILL leaves no marker: the next start raises the unclean-shutdown alert and records the gap."""
    db = tmp_path / "v.db"
    proc = start_bridge(db)
    wait_for_readings(proc, db, 20)
    proc.kill()
    proc.communicate()
    proc = start_bridge(db, extra=("--sim-origin", repr(sim_origin(db))))
    try:
        wait_for_readings(proc, db, 20)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert "ended uncleanly" in out.decode()
    conn = Database(db).connect()
    with closing(conn):
        (alert,) = [a for a in alerts.changed_since(conn, 0) if a.rule == UNCLEAN_SHUTDOWN_RULE]
        assert "nothing was recorded from" in alert.message
        reasons = {r for (r,) in conn.execute("SELECT reason FROM gaps")}
        assert "unclean shutdown" in reasons
        assert check_database(conn).problems == []


def test_the_bridge_aggregates_readings_past_retention(
    tmp_path: Path, settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Readings from months ago in the database: the bridge turns them into minutes at start, check clean."""
    settings = settings.model_copy(update={"db_path": tmp_path / "v.db"})
    run_simulation(settings, catalog, clock, 600.0).close()  # 2026-01-01, long past 90 days
    proc = start_bridge(settings.db_path)
    try:
        wait_for_readings(proc, settings.db_path, 1)
        deadline = time.monotonic() + 30.0
        while not _aggregated(settings.db_path):
            assert time.monotonic() < deadline, "no aggregates within 30 s"
            time.sleep(0.05)  # a real process working in the background
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert "aggregated 660 readings" in out.decode()
    conn = Database(settings.db_path).connect()
    with closing(conn):
        assert check_database(conn).problems == []
        old = conn.execute("SELECT COUNT(*) FROM light_readings WHERE ts < ?", (clock.wall(),)).fetchone()[0]
        assert old == 0


def _aggregated(db: Path) -> bool:
    with closing(sqlite3.connect(db, timeout=10.0)) as conn:
        return conn.execute("SELECT COUNT(*) FROM minute_aggregates").fetchone()[0] > 0
