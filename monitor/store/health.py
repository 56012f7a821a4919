"""The bridge heartbeat: proof of life the API reports at /healthz."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``real_ts`` is the machine's wall clock (for age); ``sim_ts`` the clock that stamps readings."""

    pid: int
    real_ts: float
    sim_ts: float
    readings_total: int


def write(conn: sqlite3.Connection, beat: Heartbeat) -> None:
    conn.execute(
        "INSERT INTO heartbeat (id, pid, real_ts, sim_ts, readings_total) VALUES (1, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, real_ts = excluded.real_ts,"
        " sim_ts = excluded.sim_ts, readings_total = excluded.readings_total",
        (beat.pid, beat.real_ts, beat.sim_ts, beat.readings_total),
    )


def read(conn: sqlite3.Connection) -> Heartbeat | None:
    row = conn.execute("SELECT pid, real_ts, sim_ts, readings_total FROM heartbeat WHERE id = 1").fetchone()
    return None if row is None else Heartbeat(int(row[0]), float(row[1]), float(row[2]), int(row[3]))
