"""One bridge per database, children that die with their supervisor, and a supervisor that stops at once
when a child cannot work: real processes on a real SQLite file."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.integrity import check_database
from monitor.store import Database
from monitor.store.bridge_lock import lock_path
from tests.system_process import free_port, start_system

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def vialguard(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vialguard", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Its exit status and output; one still running after a minute is stopped and reported as -999 (a
    process that should have exited at once and did not)."""
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        return -999, out, err
    return proc.returncode, out, err


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    """Until ``condition()`` holds; another process is being waited for, no clock of ours drives it."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Running (a zombie no parent has reaped yet has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def holds_lock(db: Path, pid: int) -> bool:
    path = lock_path(db)
    return path.exists() and path.read_text().strip() == str(pid)


def has_readings(db: Path) -> bool:
    """The bridge on ``db`` has committed readings (it is past its start)."""
    if not db.exists():
        return False
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return bool(conn.execute("SELECT COUNT(*) FROM light_readings").fetchone()[0])
    except sqlite3.OperationalError:  # not made yet
        return False
    finally:
        conn.close()


@pytest.mark.slow
def test_a_second_bridge_and_a_second_run_exit_at_once_naming_the_holder(tmp_path: Path) -> None:
    """A bridge runs on the database: another `vialguard bridge` and a `vialguard run` on it each exit with
    status 2, naming the database and the first bridge's pid; the first runs on, and its ledgers match."""
    db = tmp_path / "v.db"
    first = vialguard("bridge", "--simulate", "--speed", "60", "--db", str(db))
    try:
        wait_for(lambda: has_readings(db), "the first bridge to store readings")
        code, _, err = finish(vialguard("bridge", "--simulate", "--db", str(db)))
        assert code == 2, err
        assert str(db) in err
        assert f"pid {first.pid}" in err
        assert "Traceback" not in err
        code, out, err = finish(vialguard("run", "--simulate", "--db", str(db), "--port", str(free_port())))
        assert code == 2, out + err
        assert f"pid {first.pid}" in err
        assert "vialguard is running" not in out
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGTERM)
        code, _, err = finish(first)
    assert code == 0, err
    assert "ended uncleanly" not in err  # nobody declared its live run dead
    conn = Database(db).connect()
    try:
        assert check_database(conn).problems == []
    finally:
        conn.close()


@pytest.mark.slow
def test_children_die_with_a_supervisor_killed_outright(tmp_path: Path) -> None:
    """SIGKILL to `vialguard run`: its bridge and API stop too (no bridge writes unsupervised), and a new
    `vialguard run` on the same database then starts."""
    db, port = tmp_path / "v.db", free_port()
    supervisor = start_system(db, port, speed=60)
    try:
        wait_for(lambda: len(children(supervisor.pid)) == 2, "the bridge and the API to start")
        kids = children(supervisor.pid)
        wait_for(lambda: has_readings(db), "the bridge to store readings")
        supervisor.kill()
        supervisor.wait()
        wait_for(lambda: not any(alive(k) for k in kids), "the children to die with their supervisor")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        assert supervisor.stdout is not None
        supervisor.stdout.close()
    again = start_system(db, port, speed=60)
    try:
        wait_for(lambda: any(holds_lock(db, k) for k in children(again.pid)), "the new run's bridge")
    finally:
        again.send_signal(signal.SIGTERM)
        out, _ = again.communicate(timeout=30)
    assert again.returncode == 0, out.decode()


SUPERVISE = textwrap.dedent(
    """
    import logging, sys
    from vialguard.supervisor import Child, supervise
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    bad = [sys.executable, "-c", "import sys; sys.exit(int(sys.argv[1]))", sys.argv[1]]
    long = [sys.executable, "-c", "import time; time.sleep(300)"]
    sys.exit(supervise([Child("bad", bad), Child("long", long)], "running"))
    """
)


@pytest.mark.parametrize(
    ("child_status", "expected_status", "reason"),
    [(2, 2, "a configuration error"), (1, 1, "it cannot start")],
    ids=["configuration-error", "exits-at-once"],
)
def test_a_child_that_cannot_work_stops_everything_at_once(
    child_status: int, expected_status: int, reason: str
) -> None:
    """A child exiting by itself with status 2 (a refused setting, a taken port, a busy database), or at
    once after its start: no restart; the other child is stopped and the supervisor exits non-zero with
    the reason."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SUPERVISE, str(child_status)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    code, out, err = finish(proc)
    assert code == expected_status, out + err
    assert err.count("started bad") == 1  # never restarted
    assert f"bad exited with status {child_status}" in err
    assert reason in err
    assert "long stopped" in err


def test_the_api_alone_names_a_taken_port(tmp_path: Path) -> None:
    """`vialguard api` on a port another process listens on: one line naming it, status 2 (which the
    supervisor does not restart), rather than uvicorn's log and status 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = finish(
            vialguard("api", "--simulate", "--db", str(tmp_path / "v.db"), "--port", str(port))
        )
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert f"api.port: cannot listen on 127.0.0.1:{port}" in lines[0]
