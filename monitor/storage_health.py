"""Room left for the database, and whether it is sound: system alerts for a disk nearly full and corruption.

A full SD card fails every commit: the bridge keeps the batch in memory and retries, but nothing new
reaches the database, and an alert written then would fail with it. So the room left is checked with every
commit and alerted while there is still room to write the alert. The room is the filesystem's free space
for unprivileged writers, and, if the process runs under a file-size limit (``RLIMIT_FSIZE``, as a systemd
unit's ``LimitFSIZE=`` sets), what the largest of the database's files may still grow by.

Soundness: at every start the bridge runs SQLite's ``quick_check`` on a connection of its own, in the
background (on a year of readings it reads the whole file), and raises a critical ``database-corrupt``
alert with what it found. ``vialguard db check`` goes further (every ledger against a recomputation).
"""

from __future__ import annotations

import logging
import os
import resource
import sqlite3
from pathlib import Path

from monitor.errors import StoreError
from monitor.store import system_alerts
from monitor.store.database import Database, transaction

log = logging.getLogger(__name__)

DISK_RULE = "disk-nearly-full"
CORRUPT_RULE = "database-corrupt"
_FINGERPRINT = f"{DISK_RULE}:system:0"
_MB = 1_000_000.0


def free_bytes(db_path: Path) -> int:
    """Bytes the database's files can still grow by."""
    st = os.statvfs(db_path.parent)
    free = st.f_bavail * st.f_frsize
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        sizes = [p.stat().st_size for p in _files(db_path) if p.exists()]
        free = min(free, soft - max(sizes, default=0))
    return max(free, 0)


def _files(db_path: Path) -> tuple[Path, ...]:
    name = db_path.name
    return (db_path, db_path.with_name(name + "-wal"), db_path.with_name(name + ".spool"))


def apply(conn: sqlite3.Connection, db_path: Path, now: float, min_free_bytes: float) -> int:
    """Open or resolve the alert for ``db_path``'s room; returns the alert changes made."""
    free = free_bytes(db_path)
    message = (
        f"disk nearly full: {free / _MB:.1f} MB left for the database {db_path} (alert below"
        f" {min_free_bytes / _MB:g} MB); when it is full, readings are kept in memory only"
    )
    alert = system_alerts.system_alert(_FINGERPRINT, DISK_RULE, "critical", free / _MB, message, now)
    return system_alerts.hold(conn, free < min_free_bytes, alert, f"{free / _MB:.1f} MB free", now)


def quick_check(conn: sqlite3.Connection) -> tuple[str, ...]:
    """SQLite's ``quick_check`` (structure, without cross-checking indexes): ``("ok",)`` when sound."""
    try:
        return tuple(str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall())
    except sqlite3.DatabaseError as exc:
        return (str(exc),)


def check_soundness(db_path: Path, now: float) -> tuple[str, ...]:
    """Check the database on a connection of its own; alert what is found. Returns the findings."""
    try:
        conn = Database(db_path).connect()
    except StoreError:  # nothing to store an alert in: the log is all there is
        log.critical("database %s cannot be opened to check it", db_path, exc_info=True)
        return ("cannot be opened",)
    try:
        found = quick_check(conn)
        if found == ("ok",):
            return found
        log.critical("database %s is damaged: %s", db_path, "; ".join(found[:5]))
        message = f"database corrupt: SQLite's quick check of {db_path} found: " + "; ".join(found[:3])
        try:
            with transaction(conn):
                fp = f"{CORRUPT_RULE}:system:0"
                count = float(len(found))
                alert = system_alerts.system_alert(fp, CORRUPT_RULE, "critical", count, message, now)
                system_alerts.hold(conn, True, alert, "", now)
        except sqlite3.Error:
            log.critical("the corruption alert could not be stored either", exc_info=True)
        return found
    finally:
        conn.close()
