"""SIGKILL at random points, many times over: the database stays sound and every lost window is a gap.

Each iteration starts `vialguard bridge --simulate` at 600x on the same database, spooling every 0.25 s and
committing every 1.5 s, continuing the simulated timeline where the last run left it, and kills it after a
random delay: during start-up, migration or the replay of a spool, between spool appends, or inside a
commit. After each kill the invariants hold: SQLite's integrity, every ledger equal to its recomputation, no
reading once committed lost. At the end every run but the last is alerted once as an unclean shutdown, and
every start after a sensor's first reading recorded the outage before it as a gap of that sensor.
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
from monitor.store import Database, alerts, runs
from tests.firmware_bridge.bridge_process import (
    TABLES,
    sim_origin,
    site_config,
    start_bridge,
    wait_for_readings,
)

ITERATIONS = int(os.environ.get("VIALGUARD_KILL_ITERATIONS", "12"))
SEED = int(os.environ.get("VIALGUARD_KILL_SEED", "7"))
SPEED = 600.0


def _count(conn: sqlite3.Connection) -> int:
    return sum(int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES.values())


def test_sigkill_anywhere_keeps_the_database_sound(tmp_path: Path) -> None:
    """Killed at random points: integrity, exact ledgers, nothing committed lost, every outage a gap."""
    rng = random.Random(SEED)
    db = tmp_path / "v.db"
    config = ("--config", str(site_config(tmp_path, batch_seconds=0.25, commit_seconds=1.5)))
    committed = 0
    logs: list[str] = []
    for i in range(ITERATIONS):
        proc = start_bridge(db, speed=SPEED, extra=(*config, "--sim-origin", repr(sim_origin(db))))
        time.sleep(rng.uniform(0.0, 1.5))  # a real process runs for a random real time before the kill
        proc.kill()
        out, _ = proc.communicate()
        logs.append(out.decode())
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

    proc = start_bridge(db, speed=SPEED, extra=(*config, "--sim-origin", repr(sim_origin(db))))
    try:
        wait_for_readings(proc, db, 50)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode()
    logs.append(out.decode())
    assert any("recovered" in text and "from the spool" in text for text in logs)  # spools were replayed

    conn = Database(db).connect()
    with closing(conn):
        assert check_database(conn).problems == []
        recorded = conn.execute("SELECT COUNT(*) FROM bridge_runs").fetchone()[0]
        unclean = [a for a in alerts.changed_since(conn, 0, limit=10_000) if a.rule == UNCLEAN_SHUTDOWN_RULE]
        assert len(unclean) == recorded - 1  # every run but the last ended unclean, each alerted once
        last = runs.last(conn)
        assert last is not None
        assert last.stopped_ts is not None
        starts = [float(t) for (t,) in conn.execute("SELECT started_ts FROM bridge_runs")]
        for table in TABLES.values():
            for sensor_id, first in conn.execute(
                f"SELECT sensor_id, MIN(ts) FROM {table} GROUP BY sensor_id"
            ):
                ends = {
                    float(e)
                    for (e,) in conn.execute(
                        "SELECT end_ts FROM gaps WHERE sensor_id = ? AND reason = 'unclean shutdown'",
                        (sensor_id,),
                    )
                }
                assert ends == {t for t in starts if t > first}, (
                    f"sensor {sensor_id}: an outage without its gap"
                )
