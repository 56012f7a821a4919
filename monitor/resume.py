"""Where a simulated timeline resumes: after everything it has recorded, committed or only spooled.

A simulated clock starts from an origin; a restarted simulation that began at the real time again would
stamp readings before those it had already stored (a simulation at 600x runs days ahead of the real
clock), interleaving two series. The last moment recorded is the latest of the heartbeat's clock, each
sensor's last stored reading, the last bridge run's start and stop, and every reading in the spool that a
crash left for the next start to replay.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.store import health, readings, runs, sites
from monitor.store.spool import read_spool


def last_recorded_ts(conn: sqlite3.Connection, spool_path: Path) -> float | None:
    """The latest time the database or the spool beside it holds a record at; None for neither."""
    seen: list[float] = []
    beat = health.read(conn)
    if beat is not None:
        seen.append(beat.sim_ts)
    run = runs.last(conn)
    if run is not None:
        seen += [run.started_ts] + ([] if run.stopped_ts is None else [float(run.stopped_ts)])
    for sensor in sites.list_sensors(conn):
        tail = readings.tail(conn, sensor)
        if tail is not None:
            seen.append(tail.ts)
    spooled = read_spool(spool_path).batch
    seen += [r.ts for r in spooled.light] + [r.ts for r in spooled.temperature]
    seen += [f.ts for f in spooled.faults] + [g.end_ts for g in spooled.gaps]
    return max(seen, default=None)


def resume_origin(conn: sqlite3.Connection, spool_path: Path, real_now: float) -> float:
    """Where a simulated clock starting now begins: the real time, or just after the last record."""
    last = last_recorded_ts(conn, spool_path)
    return real_now if last is None else max(real_now, last + 1.0)
