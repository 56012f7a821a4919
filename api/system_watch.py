"""The system checks, run by the API process every ``[alerts] system_check_seconds``.

The API process runs them because the bridge cannot report its own absence, and the API is the process an
integrator is talking to. Each pass reads the age of the bridge's heartbeat, then opens or resolves the
``system`` alerts (:mod:`monitor.store.system_alerts`). The first pass waits one interval, so the
bridge started beside the API has written its first heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time

from starlette.concurrency import run_in_threadpool

from api.deps import AppState
from monitor.errors import StoreError
from monitor.store import clocks, health, system_alerts
from monitor.store.database import transaction
from monitor.system_checks import SystemLimits, SystemStatus, evaluate

log = logging.getLogger(__name__)


def limits(state: AppState) -> SystemLimits:
    alerts = state.settings.alerts
    return SystemLimits(
        bridge_down_seconds=alerts.bridge_down_seconds,
    )


def status(state: AppState, conn: sqlite3.Connection) -> SystemStatus:
    beat = health.read(conn)
    return SystemStatus(heartbeat_age_seconds=None if beat is None else max(time.time() - beat.real_ts, 0.0))


def check_once(state: AppState) -> int:
    """One pass: returns how many system alerts it opened or resolved."""
    with state.checkout() as conn:
        seen = status(state, conn)
        with transaction(conn):
            # The real clock's high-water mark, raised by this process too and read back from the others.
            mark = clocks.raise_real_high_water(conn, state.expiry_now())
            state.expiry_clock.raise_floor(mark, time.monotonic())
            return system_alerts.reconcile(
                conn, evaluate(seen, limits(state)), limits(state), state.clock.wall()
            )


async def watch(state: AppState) -> None:
    """Run :func:`check_once` every interval until cancelled; a failing pass is logged once, not each time."""
    failing = False
    while True:
        await asyncio.sleep(state.settings.alerts.system_check_seconds)
        try:
            await run_in_threadpool(check_once, state)
        except (sqlite3.Error, StoreError, OSError) as exc:
            if not failing:
                log.warning("system checks failing: %s", exc)
            failing = True
        else:
            if failing:
                log.info("system checks running again")
            failing = False
