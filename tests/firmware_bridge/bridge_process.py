"""The bridge as systemd runs it: `vialguard bridge --simulate` in a subprocess, watched via its database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

START_TIMEOUT_SECONDS = 30.0


def start_bridge(db: Path, *, speed: float = 60.0, extra: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
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
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


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
