"""One clock for every process of a system: the simulated one while a simulation runs.

``vialguard run --simulate --speed S`` chooses a simulated origin and hands it to its children; it also
records it in the database (:mod:`monitor.store.clocks`), so that a command run beside it (a vial event
entered at the console, a token) stamps its writes on the same timeline instead of the machine's clock,
which a simulation at 600x left weeks behind. With no simulation running, a write is stamped at the real
time, or just after the last record when the stored timeline runs ahead of it (a stopped simulation),
where the next run will resume.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from hardware.clock import WarpClock
from monitor.resume import resume_origin
from monitor.store import clocks
from monitor.store.database import Database, transaction
from monitor.store.spool import Spool

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    """This boot's id: CLOCK_MONOTONIC, a warp clock's base, is shared only within one boot."""
    try:
        return _BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True


def running(conn: sqlite3.Connection) -> WarpClock | None:
    """The clock of the simulation running on this database now, or None when none runs."""
    rec = clocks.simulated(conn)
    if rec is None or rec.boot_id != boot_id() or not _alive(rec.pid):
        return None
    return WarpClock(rec.speed, rec.sim_origin_ts, rec.real_origin_monotonic)


def record(conn: sqlite3.Connection, clock: WarpClock, pid: int) -> None:
    """Publish ``clock`` as the running simulation's, for as long as process ``pid`` lives."""
    rec = clocks.SimulatedClock(clock.speed, clock.sim_origin, clock.real_origin, boot_id(), pid)
    with transaction(conn):
        clocks.record_simulated(conn, rec)


def forget(conn: sqlite3.Connection) -> None:
    """No simulation runs here any more: writes take the real clock."""
    with transaction(conn):
        clocks.clear_simulated(conn)


def system_now(conn: sqlite3.Connection, db_path: Path) -> float:
    """Now on the system's clock: the running simulation's, else the real time or, when the stored
    timeline runs ahead of it, just after its last record."""
    clock = running(conn)
    if clock is not None:
        return clock.wall()
    return resume_origin(conn, Spool.beside(db_path), time.time())


def joined_or_resumed(db_path: Path, speed: float) -> WarpClock:
    """A simulation's clock for a process started on its own: the running simulation's if one runs on
    this database, else a new one resuming after the last record (the real time for a new database)."""
    if not db_path.is_file():
        return WarpClock(speed, time.time())
    conn = Database(db_path).connect_readonly(any_schema=True)
    try:
        clock = running(conn)
        if clock is not None:
            return clock
        return WarpClock(speed, resume_origin(conn, Spool.beside(db_path), time.time()))
    except sqlite3.OperationalError:  # an older schema, not migrated yet: nothing ran on this one
        return WarpClock(speed, time.time())
    finally:
        conn.close()


def expiry_now(conn: sqlite3.Connection) -> float:
    """Real time for token expiry: never before the high-water mark the system's processes have raised."""
    return max(time.time(), clocks.real_high_water(conn) or float("-inf"))
