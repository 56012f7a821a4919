"""Bridge runs and system events: the clean-shutdown marker, and what happened to the system itself.

A run's row is written when the bridge starts and gets ``stopped_ts`` only on a graceful stop, after the
last batch is committed. A run found without it at the next start ended uncleanly (killed, crashed, power
lost).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BridgeRun:
    id: int
    pid: int
    started_ts: float
    stopped_ts: float | None  # None: still running, or ended uncleanly


@dataclass(frozen=True, slots=True)
class SystemEvent:
    id: int
    ts: float
    kind: str
    detail: str


def last(conn: sqlite3.Connection) -> BridgeRun | None:
    row = conn.execute(
        "SELECT id, pid, started_ts, stopped_ts FROM bridge_runs ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return None if row is None else BridgeRun(int(row[0]), int(row[1]), float(row[2]), row[3])


def begin(conn: sqlite3.Connection, pid: int, ts: float) -> int:
    cur = conn.execute("INSERT INTO bridge_runs (pid, started_ts) VALUES (?, ?)", (pid, ts))
    return int(cur.lastrowid or 0)


def mark_clean(conn: sqlite3.Connection, run_id: int, ts: float) -> None:
    conn.execute("UPDATE bridge_runs SET stopped_ts = ? WHERE id = ?", (ts, run_id))


def record_event(conn: sqlite3.Connection, ts: float, kind: str, detail: str) -> int:
    cur = conn.execute("INSERT INTO system_events (ts, kind, detail) VALUES (?, ?, ?)", (ts, kind, detail))
    return int(cur.lastrowid or 0)


def events(
    conn: sqlite3.Connection, kind: str | None = None, *, newest: int | None = None
) -> list[SystemEvent]:
    """Events in the order recorded, of one ``kind`` or all; ``newest``: only the last that many, newest
    first."""
    sql = "SELECT id, ts, kind, detail FROM system_events"
    args: tuple[object, ...] = ()
    if kind is not None:
        sql, args = sql + " WHERE kind = ?", (kind,)
    if newest is None:
        sql += " ORDER BY id"
    else:
        sql, args = sql + " ORDER BY id DESC LIMIT ?", (*args, newest)
    rows = conn.execute(sql, args).fetchall()
    return [SystemEvent(int(i), float(t), str(k), str(d)) for i, t, k, d in rows]
