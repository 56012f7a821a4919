"""SIGKILL at random points, many times over: the database stays sound and every lost window is a gap.

Each iteration starts `vialguard bridge --simulate` at 600x on the same database, continuing the simulated
timeline where the last run's heartbeat left it, and kills it after a random delay: during start-up and
migration, between batches, or inside a commit of a thousand readings. After each kill the invariants hold:
SQLite's integrity, every ledger equal to its recomputation, no reading once committed lost. At the end every
run but the last is alerted once as an unclean shutdown, and every sensor's last reading before each kill
starts an ``unclean shutdown`` gap.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from monitor.integrity import check_database
from monitor.outages import UNCLEAN_SHUTDOWN_RULE
from monitor.store import Database, alerts, health, runs
from tests.firmware_bridge.bridge_process import start_bridge, wait_for_readings

ITERATIONS = int(os.environ.get("VIALGUARD_KILL_ITERATIONS", "12"))
SEED = int(os.environ.get("VIALGUARD_KILL_SEED", "7"))
SPEED = 600.0
TABLES = {"light": "light_readings", "temperature": "temperature_readings"}


def _sim_origin(db: Path) -> float:
    """Where the next run's simulated clock starts: after the last heartbeat, as `vialguard run` resumes."""
    if not db.exists():
        return time.time()
    conn = Database(db).connect()
    with closing(conn):
        try:
            beat = health.read(conn)
        except sqlite3.OperationalError:  # killed before its schema existed
            return time.time()
    return time.time() if beat is None else max(time.time(), beat.sim_ts + 1.0)


def _tails(conn: sqlite3.Connection) -> dict[int, float]:
    """Each sensor's newest stored reading time."""
    out: dict[int, float] = {}
    for table in TABLES.values():
        for sensor_id, ts in conn.execute(f"SELECT sensor_id, MAX(ts) FROM {table} GROUP BY sensor_id"):
            out[int(sensor_id)] = float(ts)
    return out


def _count(conn: sqlite3.Connection) -> int:
    return sum(int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES.values())


def test_sigkill_anywhere_keeps_the_database_sound(tmp_path: Path) -> None:
    """Killed at random points: integrity, exact ledgers, nothing committed lost, every outage a gap."""
    rng = random.Random(SEED)
    db = tmp_path / "v.db"
    killed_tails: dict[int, set[float]] = {}
    committed = 0
    for i in range(ITERATIONS):
        proc = start_bridge(db, speed=SPEED, extra=("--sim-origin", repr(_sim_origin(db))))
        time.sleep(rng.uniform(0.0, 1.5))  # a real process runs for a random real time before the kill
        proc.kill()
        out, _ = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, (
            f"iteration {i} (seed {SEED}): exited first:\n{out.decode()}"
        )
        if not db.exists():
            continue
        conn = Database(db).connect()
        with closing(conn):
            report = check_database(conn)
            if report.schema_version == 0:  # killed before the first migration committed
                continue
            assert report.problems == [], f"iteration {i} (seed {SEED}): {report.problems}"
            now = _count(conn)
            assert now >= committed, f"iteration {i} (seed {SEED}): {committed - now} committed readings lost"
            committed = now
            for sensor_id, ts in _tails(conn).items():
                killed_tails.setdefault(sensor_id, set()).add(ts)

    proc = start_bridge(db, speed=SPEED, extra=("--sim-origin", repr(_sim_origin(db))))
    try:
        wait_for_readings(proc, db, 50)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode()

    conn = Database(db).connect()
    with closing(conn):
        assert check_database(conn).problems == []
        recorded = conn.execute("SELECT COUNT(*) FROM bridge_runs").fetchone()[0]
        unclean = [a for a in alerts.changed_since(conn, 0, limit=10_000) if a.rule == UNCLEAN_SHUTDOWN_RULE]
        assert len(unclean) == recorded - 1  # every run but the last ended unclean, each alerted once
        last = runs.last(conn)
        assert last is not None
        assert last.stopped_ts is not None
        gaps: dict[int, set[float]] = {}
        for sensor_id, start in conn.execute(
            "SELECT sensor_id, start_ts FROM gaps WHERE reason = 'unclean shutdown'"
        ):
            gaps.setdefault(int(sensor_id), set()).add(float(start))
        for sensor_id, tails in killed_tails.items():
            assert tails == gaps.get(sensor_id, set()), f"sensor {sensor_id}: outages without their gap"
