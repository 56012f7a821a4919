"""What handlers receive: a per-thread database connection, the catalog and the clock."""

from __future__ import annotations

import sqlite3
import threading
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

    def connection(self) -> sqlite3.Connection:
        """One connection per worker thread: sync handlers run in FastAPI's thread pool."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.database.connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.vialguard
    return state


def _conn(state: Annotated[AppState, Depends(_state)]) -> sqlite3.Connection:
    return state.connection()


State = Annotated[AppState, Depends(_state)]
Conn = Annotated[sqlite3.Connection, Depends(_conn)]
