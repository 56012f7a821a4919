"""SIGKILL at chosen and random points, many times over: the database stays sound, every lost window a gap.

Each iteration starts `vialguard bridge --simulate` at 600x on the same database, spooling every 0.25 s and
committing every 1.5 s, continuing the simulated timeline where the last run left it, and kills it. The kill
points cycle through three kinds so that what the test covers does not depend on the machine's load:
- once the spool file has grown (readings spooled, not yet committed: the next run must replay them; when a
  commit empties the spool between the look and the kill, the iteration tries again);
- once a commit has landed (the heartbeat's reading count rose), a random moment later;
- after a random real delay: during start-up, migration or the replay of a spool, between spool appends, or
  inside a commit.
After each kill the invariants hold: SQLite's integrity, every ledger equal to its recomputation, no reading
once committed lost. At the end every run but the last is alerted once as an unclean shutdown, every start
after a sensor's first reading recorded the outage before it as a gap of that sensor, and spools were
replayed.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from monitor.integrity import check_database
from monitor.outages import UNCLEAN_SHUTDOWN_RULE
from monitor.store import Database, alerts, runs
from monitor.store.spool import Spool
from tests.firmware_bridge.bridge_process import (
    START_TIMEOUT_SECONDS,
    TABLES,
    committed_readings,
    sim_origin,
    site_config,
    start_bridge,
    wait_for_readings,
)

ITERATIONS = int(os.environ.get("VIALGUARD_KILL_ITERATIONS", "12"))
SEED = int(os.environ.get("VIALGUARD_KILL_SEED", "7"))
SPEED = 600.0
KINDS = ("spooled", "committed", "random")
SPOOLED_ATTEMPTS = 5  # a commit may empty the spool between the look and the kill: try again


def _count(conn: sqlite3.Connection) -> int:
    return sum(int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES.values())


def _spool_bytes(db: Path) -> int:
    try:
        return Spool.beside(db).stat().st_size
    except FileNotFoundError:
        return 0


def _wait_until(proc: subprocess.Popen[bytes], what: str, ready: Callable[[], bool]) -> None:
    """Poll until ``ready()``; the bridge must still be running, and it must come within the start timeout."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready():
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"the bridge exited with {proc.returncode} before {what}:\n{out}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            raise AssertionError(f"no {what} within {START_TIMEOUT_SECONDS} s")
        time.sleep(0.01)


def _kill(proc: subprocess.Popen[bytes], i: int) -> str:
    proc.kill()
    out, _ = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, f"iteration {i} (seed {SEED}): exited first:\n{out.decode()}"
    return out.decode()


def _run_and_kill(db: Path, config: tuple[str, ...], kind: str, rng: random.Random, i: int) -> str:
    """One run of the bridge killed at a point of ``kind``; returns its output."""
    proc = start_bridge(db, speed=SPEED, extra=(*config, "--sim-origin", repr(sim_origin(db))))
    if kind == "spooled":
        _wait_until(proc, "spool write", lambda: _spool_bytes(db) > 0)
    elif kind == "committed":
        before = committed_readings(db)
        _wait_until(proc, "commit", lambda: committed_readings(db) > before)
        time.sleep(rng.uniform(0.0, 1.5))
    else:
        time.sleep(rng.uniform(0.0, 1.5))  # a real process runs for a random real time before the kill
    return _kill(proc, i)


def _check(db: Path, i: int, committed: int) -> int:
    """The invariants after a kill; returns how many readings are committed now."""
    if not db.exists():
        return committed
    conn = Database(db).connect()
    with closing(conn):
        report = check_database(conn)
        if report.schema_version == 0:  # killed before the first migration committed
            return committed
        assert report.problems == [], f"iteration {i} (seed {SEED}): {report.problems}"
        now = _count(conn)
        assert now >= committed, f"iteration {i} (seed {SEED}): {committed - now} committed readings lost"
        return now


def test_sigkill_anywhere_keeps_the_database_sound(tmp_path: Path) -> None:
    """Killed at chosen and random points: integrity, exact ledgers, nothing committed lost, outages gaps."""
    rng = random.Random(SEED)
    db = tmp_path / "v.db"
    config = ("--config", str(site_config(tmp_path, batch_seconds=0.25, commit_seconds=1.5)))
    committed = 0
    logs: list[str] = []
    spools_left = 0
    for i in range(ITERATIONS):
        kind = KINDS[i % len(KINDS)]
        for _ in range(SPOOLED_ATTEMPTS if kind == "spooled" else 1):
            logs.append(_run_and_kill(db, config, kind, rng, i))
            committed = _check(db, i, committed)
            if kind != "spooled":
                break
            if _spool_bytes(db) > 0:  # the kill left readings only the spool holds
                spools_left += 1
                break
    assert spools_left > 0, "no kill left a spool behind: the replay path was not covered"

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
