"""The bridge's start and stop: the clean-shutdown marker, and an outage after an unclean end.

At start the previous run is looked up. Either way the bridge saw nothing while it was down, so every
sensor's series breaks there: a gap from its last stored reading to this start is recorded (``bridge
stopped`` or ``unclean shutdown``), which the ledger never bridges and the potency bounds count as time
without data. Call it before the first reading of the run is taken, and after a spool is replayed. A run that
ended without marking itself clean (killed, crashed, power lost) also raises a system alert naming the
outage: from the last reading it committed or spooled (or its last heartbeat) to this start. Readings it
held neither committed nor spooled, at most one batch window, are inside that interval.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from monitor.engine import Engine
from monitor.store import alerts, health, runs, system_alerts
from monitor.store.database import transaction
from monitor.timestamps import format_utc

UNCLEAN_SHUTDOWN_RULE = "unclean-shutdown"


@dataclass(frozen=True, slots=True)
class Outage:
    start_ts: float  # the last moment the previous run was known to be working
    end_ts: float  # this start
    clean: bool  # the previous run stopped gracefully

    @property
    def seconds(self) -> float:
        return max(self.end_ts - self.start_ts, 0.0)


def iso(ts: float) -> str:
    return format_utc(ts)


def start_run(conn: sqlite3.Connection, engine: Engine, pid: int, now: float) -> tuple[int, Outage | None]:
    """Record this run's start; find, record and alert an outage before it. Returns the run id and it."""
    with transaction(conn):
        previous = runs.last(conn)
        run_id = runs.begin(conn, pid, now)
        if previous is None:
            return run_id, None
        beat = health.read(conn)
        alive = previous.stopped_ts
        if alive is None:
            seen = [previous.started_ts, engine.last_reading_ts, beat.sim_ts if beat is not None else None]
            alive = max(t for t in seen if t is not None)
        outage = Outage(min(alive, now), now, previous.stopped_ts is not None)
        engine.break_series(now, "bridge stopped" if outage.clean else "unclean shutdown")
        if not outage.clean:
            message = (
                f"the bridge stopped uncleanly (run {previous.id}, pid {previous.pid}): nothing was recorded"
                f" from {iso(outage.start_ts)} to {iso(outage.end_ts)} ({outage.seconds:.0f} s);"
                " the dose model counts it as a gap"
            )
            runs.record_event(conn, now, UNCLEAN_SHUTDOWN_RULE, message)
            fp = f"{UNCLEAN_SHUTDOWN_RULE}:system:{run_id}"
            alert = system_alerts.system_alert(
                fp, UNCLEAN_SHUTDOWN_RULE, "warning", outage.seconds, message, now, started_ts=outage.start_ts
            )
            alerts.fire(conn, alert)
    return run_id, outage


def stop_run(conn: sqlite3.Connection, run_id: int, now: float) -> None:
    """The clean-shutdown marker: written only once everything the run read is committed."""
    with transaction(conn):
        runs.mark_clean(conn, run_id, now)
