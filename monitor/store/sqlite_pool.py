"""Lending SQLite sessions to concurrent requests: :class:`~monitor.store.ports.StorePool` on SQLite."""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from monitor.store.database import Database, sqlite_errors
from monitor.store.sqlite_store import SqliteStore


class SqlitePool:
    """Connections to one database, each lent to one caller at a time.

    A request's dependencies and its handler may run on different threads of FastAPI's pool, so a
    connection per thread would let two requests share one (and nest their transactions); a checkout per
    request cannot. The pool grows to the number of callers at once, which the API's thread pool bounds
    (40 by default). ``cache_kib`` caps each connection's page cache (SQLite's default: 2,000 KiB).
    """

    def __init__(self, database: Database, *, cache_kib: int | None = None) -> None:
        self.database = database
        self.cache_kib = cache_kib
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def acquire(self) -> sqlite3.Connection:
        """A connection no other caller holds until :meth:`release`."""
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            conn = self.database.connect()
            if self.cache_kib is not None:
                with sqlite_errors():
                    conn.execute(f"PRAGMA cache_size = -{self.cache_kib}")
            with self._lock:
                self._all.append(conn)
            return conn

    def release(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # a caller that failed mid-read must not hand its snapshot on
            with sqlite_errors():
                conn.rollback()
        self._idle.put(conn)

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        conn = self.acquire()
        try:
            yield conn
        finally:
            self.release(conn)

    @contextmanager
    def session(self) -> Iterator[SqliteStore]:
        with self.connection() as conn:
            yield SqliteStore(conn)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
