"""Opening the SQLite database: pragmas for a Pi's SD card, migrations, explicit transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from monitor.errors import (
    DatabaseUnusable,
    IntegrityViolation,
    StoreError,
    StoreFault,
    StoreUnavailable,
)
from monitor.store.schema import SCHEMA_VERSION, migrate

PAGE_SIZE_BYTES = 1024

# SQLite's result codes that mean the database cannot be used right now (not that the request is wrong),
# by the prefix of their name (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED, ...), with what to tell a caller.
_UNAVAILABLE: tuple[tuple[str, str], ...] = (
    ("SQLITE_FULL", "the database or its disk is full"),
    ("SQLITE_BUSY", "the database is locked by another writer; try again"),
    ("SQLITE_LOCKED", "the database is locked by another writer; try again"),
    ("SQLITE_READONLY", "the database is read-only (file permissions or a read-only file system)"),
    ("SQLITE_IOERR", "the database's disk failed to read or write"),
    ("SQLITE_CANTOPEN", "the database file cannot be opened"),
    ("SQLITE_CORRUPT", "the database file is damaged; run vialguard db check"),
    ("SQLITE_NOTADB", "the database file is not a SQLite database"),
    ("SQLITE_NOMEM", "the database ran out of memory"),
)


def unavailable_reason(exc: sqlite3.Error) -> str | None:
    """What makes the database unusable, for an error of that kind; None for any other error."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    for prefix, reason in _UNAVAILABLE:
        if name.startswith(prefix):
            return f"{reason} ({name}: {exc})"
    return None


def store_error(exc: sqlite3.Error) -> StoreError:
    """The store's own error for a SQLite error: unavailable (with the reason), a broken constraint, or a
    fault. The caller raises it ``from exc``, so the SQLite error stays in the trace."""
    reason = unavailable_reason(exc)
    if reason is not None:
        return StoreUnavailable(reason)
    if isinstance(exc, sqlite3.IntegrityError):
        return IntegrityViolation(f"database error: {exc}")
    return StoreFault(f"database error: {exc}")


@contextmanager
def sqlite_errors() -> Iterator[None]:
    """Translate any SQLite error raised inside into :func:`store_error`'s: the store's boundary."""
    try:
        yield
    except sqlite3.Error as exc:
        raise store_error(exc) from exc


class Database:
    """A SQLite file shared by the bridge (the one writer of readings) and the API.

    Each thread or process opens its own connection with :meth:`connect`. WAL lets the API read while the
    bridge writes; ``synchronous=NORMAL`` in WAL mode keeps every committed transaction across a crash of
    the process and loses at most the last transactions on power loss, without an fsync per commit that
    an SD card pays for in milliseconds.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
            # A new database gets 1 KiB pages (no effect on an existing one): every commit writes each page
            # it touched whole, and a batch touches a few pages to add a few hundred bytes. Against 4 KiB
            # pages this writes under half as much to the SD card (bench/bench_durability.py).
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE_BYTES}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 10000")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        return conn

    def connect_readonly(self, *, any_schema: bool = False) -> sqlite3.Connection:
        """A connection that cannot write, for commands that only read: never creates nor migrates.

        Opened with SQLite's ``mode=ro``: no directory or file is created, no pragma that writes is run, and
        a write through it fails. A missing database, or one whose schema is not this version's (a
        migration is a write: any writing process does it), is a :class:`StoreError` naming the path.
        ``any_schema`` skips the version check, for ``db check``, which reports the version itself.
        """
        if not self.path.is_file():
            raise DatabaseUnusable(
                f"no database at {self.path} (pass --db PATH, or --config FILE naming its db_path)"
            )
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=10.0)
            conn.execute("PRAGMA busy_timeout = 10000")
            version = SCHEMA_VERSION if any_schema else int(conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path} to read: {exc}") from exc
        if version != SCHEMA_VERSION:
            conn.close()
            raise DatabaseUnusable(
                f"database {self.path} has schema version {version}, this vialguard reads {SCHEMA_VERSION}:"
                " a command that only reads never migrates it (vialguard run or bridge does)"
            )
        return conn

    def initialise(self) -> None:
        """Create or migrate the schema; safe to call on every start."""
        conn = self.connect()
        try:
            migrate(conn)
        finally:
            conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed on success, rolled back on any error.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so two writers queue instead of failing halfway.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        # SQLite itself rolls back a transaction that failed on a full disk or an I/O error; a ROLLBACK
        # then would fail too ("no transaction is active") and hide the error that says what happened.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error:
        # A commit that failed to write (a full disk, an I/O error) can leave the transaction open: end
        # it, so the next batch starts afresh instead of failing on a transaction within a transaction.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction: every query inside sees the same committed state (WAL snapshot)."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")
