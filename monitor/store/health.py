"""The bridge heartbeat: proof of life the API reports at /healthz."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from monitor.store import clocks


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``real_ts`` is the machine's wall clock (for age); ``sim_ts`` the clock that stamps readings."""

    pid: int
    real_ts: float
    sim_ts: float
    readings_total: int
    # How far behind ``sim_ts`` committed readings may be by design: the commit window, in the seconds of
    # the clock that stamps readings. A reader must not take readings not yet committed for a silence.
    report_lag_seconds: float = 0.0


def write(conn: sqlite3.Connection, beat: Heartbeat) -> None:
    conn.execute(
        "INSERT INTO heartbeat (id, pid, real_ts, sim_ts, readings_total, report_lag_seconds)"
        " VALUES (1, ?, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, real_ts = excluded.real_ts,"
        " sim_ts = excluded.sim_ts, readings_total = excluded.readings_total,"
        " report_lag_seconds = excluded.report_lag_seconds",
        (beat.pid, beat.real_ts, beat.sim_ts, beat.readings_total, beat.report_lag_seconds),
    )
    clocks.raise_real_high_water(conn, beat.real_ts)  # token expiry never runs back with the clock


def read(conn: sqlite3.Connection) -> Heartbeat | None:
    row = conn.execute(
        "SELECT pid, real_ts, sim_ts, readings_total, report_lag_seconds FROM heartbeat WHERE id = 1"
    ).fetchone()
    if row is None:
        return None
    return Heartbeat(int(row[0]), float(row[1]), float(row[2]), int(row[3]), float(row[4]))


def report_lag_seconds(conn: sqlite3.Connection) -> float:
    """The bridge's commit window as its last heartbeat gave it; 0 before any."""
    row = conn.execute("SELECT report_lag_seconds FROM heartbeat WHERE id = 1").fetchone()
    return 0.0 if row is None else float(row[0])
