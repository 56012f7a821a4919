"""What handlers receive: a database connection of their own, the catalog and the clock."""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from api.changes import ChangeWatcher
from hardware.clock import Clock
from monitor.config import Settings
from monitor.model.profiles import Catalog
from monitor.store import Database
from monitor.store import alerts as alert_store
from monitor.tokens import ExpiryClock

# SQLite's page cache per connection, in KiB (its default is 2,000). The API's reads are short and the OS
# keeps the file's pages cached anyway; a connection per request in flight at the default would let the
# API's memory grow by 2 MB a connection as the database grows (bench/bench_durability.py).
API_CACHE_KIB = 512


@dataclass
class AppState:
    settings: Settings
    database: Database
    catalog: Catalog
    clock: Clock
    watcher: ChangeWatcher = field(init=False)
    # Real time for token expiry: never earlier than a time seen, here or by another process (persisted).
    expiry_clock: ExpiryClock = field(default_factory=ExpiryClock)
    _idle: queue.SimpleQueue[sqlite3.Connection] = field(default_factory=queue.SimpleQueue)
    _all: list[sqlite3.Connection] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.watcher = ChangeWatcher(self._latest_seq)

    def _latest_seq(self) -> int:
        with self.checkout() as conn:
            return alert_store.latest_seq(conn)

    def expiry_now(self) -> float:
        """Now, for token expiry: the real wall clock, carried forward over any step back."""
        return self.expiry_clock.now(time.time(), time.monotonic())

    def acquire(self) -> sqlite3.Connection:
        """A connection no other request holds until :meth:`release`.

        A request's dependencies and its handler may run on different threads of FastAPI's pool, so a
        connection per thread would let two requests share one (and nest their transactions); a checkout
        per request cannot. The pool grows to the number of requests in flight at once, which the thread
        pool bounds (40 by default).
        """
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            conn = self.database.connect()
            conn.execute(f"PRAGMA cache_size = -{API_CACHE_KIB}")
            with self._lock:
                self._all.append(conn)
            return conn

    def release(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # a handler that failed mid-read must not hand its snapshot on
            conn.rollback()
        self._idle.put(conn)

    @contextmanager
    def checkout(self) -> Iterator[sqlite3.Connection]:
        conn = self.acquire()
        try:
            yield conn
        finally:
            self.release(conn)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


async def _state(request: Request) -> AppState:
    # ``async`` because a plain ``def`` dependency costs every request a hop through the thread pool.
    state: AppState = request.app.state.vialguard
    return state


async def _conn(state: Annotated[AppState, Depends(_state)]) -> AsyncIterator[sqlite3.Connection]:
    # ``async`` so the checkout costs no hop through the thread pool; it never blocks but on the first
    # requests, which open the connections.
    with state.checkout() as conn:
        yield conn


State = Annotated[AppState, Depends(_state)]
Conn = Annotated[sqlite3.Connection, Depends(_conn)]
