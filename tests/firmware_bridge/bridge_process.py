"""The bridge as systemd runs it: `vialguard bridge --simulate` in a subprocess, watched via its database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from importlib import resources
from pathlib import Path
from typing import IO

from monitor.store import Database, health
from monitor.store.spool import Spool, read_spool

START_TIMEOUT_SECONDS = 30.0
TABLES = {"light": "light_readings", "temperature": "temperature_readings"}


def start_bridge(
    db: Path, *, speed: float = 60.0, extra: tuple[str, ...] = (), stdout: IO[bytes] | int = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vialguard",
            "bridge",
            "--simulate",
            "--speed",
            repr(speed),
            "--db",
            str(db),
            *extra,
        ],
        stdout=stdout,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def site_config(tmp_path: Path, *, batch_seconds: float, commit_seconds: float) -> Path:
    """The shipped simulated site with its own bridge windows."""
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    text = text[: text.index("[bridge]")]
    path = tmp_path / "site.toml"
    bridge = f"[bridge]\nbatch_seconds = {batch_seconds!r}\ncommit_seconds = {commit_seconds!r}\n"
    # The bridge counts as down only past its commit window (a rule of the settings).
    alerts = f"[alerts]\nbridge_down_seconds = {max(60.0, 2 * commit_seconds)!r}\n"
    path.write_text(text + bridge + alerts, encoding="utf-8")
    return path


def committed_readings(db: Path) -> int:
    """Readings the bridge has committed so far (0 before its schema exists)."""
    if not db.exists():
        return 0
    with closing(sqlite3.connect(db, timeout=10.0)) as conn:
        try:
            return int(conn.execute("SELECT readings_total FROM heartbeat").fetchone()[0])
        except (sqlite3.OperationalError, TypeError):
            return 0


def wait_for_readings(proc: subprocess.Popen[bytes], db: Path, at_least: int) -> int:
    """Wait until the bridge has committed ``at_least`` more readings than now: a real process to wait for."""
    target = committed_readings(db) + at_least
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"the bridge exited with {proc.returncode}:\n{out}")
        got = committed_readings(db)
        if got >= target:
            return got
        time.sleep(0.05)
    raise AssertionError(f"the bridge committed {committed_readings(db)} readings, not {target}, in time")


def sim_origin(db: Path) -> float:
    """Where the next run's simulated clock starts: after the last heartbeat, as `vialguard run` resumes."""
    seen = [time.time()]
    seen += [r.ts + 1.0 for r in read_spool(Spool.beside(db)).batch.light]
    if db.exists():
        conn = Database(db).connect()
        with closing(conn):
            try:
                beat = health.read(conn)
                seen += [ts + 1.0 for ts in tails(conn).values()]
            except sqlite3.OperationalError:  # killed before its schema existed
                beat = None
        if beat is not None:
            seen.append(beat.sim_ts + 1.0)
    return max(seen)


def tails(conn: sqlite3.Connection) -> dict[int, float]:
    """Each sensor's newest stored reading time."""
    out: dict[int, float] = {}
    for table in TABLES.values():
        for sensor_id, ts in conn.execute(f"SELECT sensor_id, MAX(ts) FROM {table} GROUP BY sensor_id"):
            out[int(sensor_id)] = float(ts)
    return out
