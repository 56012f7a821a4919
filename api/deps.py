"""What handlers receive: a per-thread database connection, the catalog and the clock."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from hardware.clock import Clock
from monitor.config import Settings
from monitor.profiles import Catalog
from monitor.store import Database


@dataclass
class AppState:
    settings: Settings
    database: Database
    catalog: Catalog
    clock: Clock
    _local: threading.local = field(default_factory=threading.local)
    _all: list[sqlite3.Connection] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _free: list[sqlite3.Connection] = field(default_factory=list)

    def connection(self) -> sqlite3.Connection:
        """One connection per worker thread: sync handlers run in FastAPI's thread pool."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.database.connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def checkout(self) -> sqlite3.Connection:
        """A connection for one request alone.

        FastAPI resolves a sync dependency in one pool thread and may run the handler in another, so a
        per-thread connection handed out by a dependency can reach two concurrent requests at once (one
        then fails with "cannot start a transaction within a transaction"). Requests therefore check a
        connection out of a pool and give it back when they finish.
        """
        with self._lock:
            if self._free:
                return self._free.pop()
        conn = self.database.connect()
        with self._lock:
            self._all.append(conn)
        return conn

    def checkin(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # a handler that failed inside a transaction must not pass it on
            conn.rollback()
        with self._lock:
            self._free.append(conn)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._free.clear()


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.vialguard
    return state


def _conn(state: Annotated[AppState, Depends(_state)]) -> Iterator[sqlite3.Connection]:
    conn = state.checkout()
    try:
        yield conn
    finally:
        state.checkin(conn)


State = Annotated[AppState, Depends(_state)]
Conn = Annotated[sqlite3.Connection, Depends(_conn)]
