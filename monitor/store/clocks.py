"""The clocks every process shares through the database.

``simulated_clock``: the origin and speed of a running simulation's clock (one row, written by the process
that chose them), so that a command entering a vial event or a token stamps it on the simulated timeline
rather than the machine's. ``real_clock_high_water``: the latest real wall-clock time any process has seen
(the bridge at each commit, the API at each system check), so that token expiry, which runs on real time,
never runs backwards when the wall clock is stepped back, not even across a restart.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SimulatedClock:
    """A warp clock's parameters: ``sim = sim_origin_ts + (CLOCK_MONOTONIC - real_origin_monotonic) * speed``.

    ``CLOCK_MONOTONIC`` is shared by the processes of one boot only, hence ``boot_id``; ``pid`` is the process
    whose life the clock lasts (the supervisor of ``vialguard run``, or a bridge run alone)."""

    speed: float
    sim_origin_ts: float
    real_origin_monotonic: float
    boot_id: str
    pid: int


def record_simulated(conn: sqlite3.Connection, clock: SimulatedClock) -> None:
    conn.execute(
        "INSERT INTO simulated_clock (id, speed, sim_origin_ts, real_origin_monotonic, boot_id, pid)"
        " VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET speed = excluded.speed,"
        " sim_origin_ts = excluded.sim_origin_ts, real_origin_monotonic = excluded.real_origin_monotonic,"
        " boot_id = excluded.boot_id, pid = excluded.pid",
        (clock.speed, clock.sim_origin_ts, clock.real_origin_monotonic, clock.boot_id, clock.pid),
    )


def clear_simulated(conn: sqlite3.Connection) -> None:
    """No simulation runs on this database (a real-sensor run starts): writes use the real clock."""
    conn.execute("DELETE FROM simulated_clock")


def simulated(conn: sqlite3.Connection) -> SimulatedClock | None:
    row = conn.execute(
        "SELECT speed, sim_origin_ts, real_origin_monotonic, boot_id, pid FROM simulated_clock WHERE id = 1"
    ).fetchone()
    if row is None:
        return None
    return SimulatedClock(float(row[0]), float(row[1]), float(row[2]), str(row[3]), int(row[4]))


HIGH_WATER_STEP_SECONDS = 60.0
"""The mark moves in steps of at least this: a commit that would move it less writes no page (an SD card
wears with each), and a restart after a step back loses at most this much of the time already seen."""


def raise_real_high_water(
    conn: sqlite3.Connection, real_ts: float, step_seconds: float = HIGH_WATER_STEP_SECONDS
) -> float:
    """Raise the mark to ``real_ts`` if that is ``step_seconds`` past it; returns the mark."""
    conn.execute(
        "INSERT INTO real_clock_high_water (id, real_ts) VALUES (1, ?) ON CONFLICT(id) DO UPDATE"
        " SET real_ts = excluded.real_ts WHERE excluded.real_ts >= real_clock_high_water.real_ts + ?",
        (real_ts, step_seconds),
    )
    return real_high_water(conn) or real_ts


def real_high_water(conn: sqlite3.Connection) -> float | None:
    row = conn.execute("SELECT real_ts FROM real_clock_high_water WHERE id = 1").fetchone()
    return None if row is None else float(row[0])
