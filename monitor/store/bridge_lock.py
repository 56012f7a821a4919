"""One bridge per database: an exclusive ``flock`` on a lock file beside it, held while the bridge runs.

Two bridges on one database both write readings and ledgers, and the second declares the first's live run
an unclean shutdown: the ledgers stop matching their recomputation. So the bridge takes the lock before it
touches the database, and a second one exits at once naming the database and the holder's process id
(written into the lock file by the holder). The kernel releases a ``flock`` when its holder dies, however it
dies: a killed bridge never leaves a stale lock. ``vialguard run`` looks at the lock before starting its
children, so a new supervisor cannot start beside a bridge left running.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from monitor.errors import DatabaseBusy, StoreError


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class BridgeLock:
    """The lock on ``db_path``, held from :meth:`acquire` until :meth:`release` or the process's end."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = lock_path(db_path)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`DatabaseBusy` naming the holder."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by child processes
        except OSError as exc:
            raise StoreError(f"cannot open the lock file {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise DatabaseBusy(
                f"database {self.db_path} is in use by another bridge ({holder}); stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the last descriptor releases the flock
            self._fd = None

    def __enter__(self) -> BridgeLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def check_free(db_path: Path) -> None:
    """Raise :class:`DatabaseBusy` if a bridge holds ``db_path``'s lock now (the lock is not kept)."""
    if not lock_path(db_path).exists():
        return
    with BridgeLock(db_path):
        pass


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text.isdigit() else "pid unknown"
