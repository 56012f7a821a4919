"""A consistent copy of a live database through SQLite's online backup API.

The copy is taken a few hundred pages at a time, so the bridge keeps committing batches while it runs
(a write between steps restarts the copy of what changed, never yields a torn file). It is written beside
``dest`` and renamed into place only once complete and checked, so ``dest`` is never half a database.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from monitor.errors import StoreError
from monitor.store.outbox import forget_epoch

PAGES_PER_STEP = 256  # 1 MiB at 4 KiB pages: the bridge waits at most one step for the write lock


def backup(source: sqlite3.Connection, dest: Path) -> int:
    """Copy the database behind ``source`` to ``dest`` (replaced if present); returns its size in bytes."""
    if dest.is_dir():
        raise StoreError(f"backup destination {dest} is a directory; give a file name")
    if not dest.parent.is_dir():
        raise StoreError(f"backup destination folder {dest.parent} does not exist")
    partial = dest.with_name(dest.name + ".partial")
    try:
        found = _copy(source, partial)
        if found == "ok":
            os.replace(partial, dest)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"backup to {dest} failed: {exc}") from exc
    if found != "ok":
        partial.unlink(missing_ok=True)
        raise StoreError(f"backup to {dest} failed its integrity check: {found}")
    return dest.stat().st_size


def _copy(source: sqlite3.Connection, partial: Path) -> str:
    """Copy into ``partial``; returns the copy's integrity check."""
    target = sqlite3.connect(partial, isolation_level=None)
    try:
        source.backup(target, pages=PAGES_PER_STEP, sleep=0.01)
        # A restored copy must never send numbers its original has sent since under the same epoch.
        forget_epoch(target)
        # One self-contained file: no -wal beside it to forget when the backup is carried away.
        target.execute("PRAGMA journal_mode = DELETE")
        return str(target.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        target.close()
