"""The system checks, run by the API process every ``[alerts] system_check_seconds``.

The API process runs them because the bridge cannot report its own absence, and the API is the process an
integrator is talking to. Each pass reads the bridge's heartbeat, the free space of the database's disk and,
on the machine's own clock, whether the kernel counts the clock as synchronised; then it opens or resolves
the ``system`` alerts (:mod:`monitor.store.system_alerts`). The first pass waits one interval, so the
bridge started beside the API has written its first heartbeat.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import shutil
import sqlite3
import sys
import time

from starlette.concurrency import run_in_threadpool

from api.deps import AppState
from hardware.clock import SystemClock
from monitor.errors import StoreError
from monitor.store import health, system_alerts
from monitor.store.database import transaction
from monitor.system_checks import SystemLimits, SystemStatus, evaluate

log = logging.getLogger(__name__)

_TIME_ERROR = 5  # adjtimex(2): the clock is not synchronised


def clock_synchronised() -> bool | None:
    """Whether the kernel holds the clock synchronised (adjtimex), or None where that cannot be read."""
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)
    buffer = ctypes.create_string_buffer(512)  # struct timex, zeroed: modes = 0 only reads
    state = int(libc.adjtimex(buffer))
    return None if state < 0 else state != _TIME_ERROR


def limits(state: AppState) -> SystemLimits:
    alerts = state.settings.alerts
    return SystemLimits(
        bridge_down_seconds=alerts.bridge_down_seconds,
        storage_free_percent_min=alerts.storage_free_percent_min,
    )


def status(state: AppState, conn: sqlite3.Connection) -> SystemStatus:
    beat = health.read(conn)
    usage = shutil.disk_usage(state.settings.db_path.parent)
    # A simulated or test clock is not the machine's: whether the machine's is synchronised says nothing.
    real_clock = isinstance(state.clock, SystemClock)
    return SystemStatus(
        heartbeat_age_seconds=None if beat is None else max(time.time() - beat.real_ts, 0.0),
        storage_free_percent=100.0 * usage.free / usage.total if usage.total else None,
        clock_synchronised=clock_synchronised() if real_clock else None,
    )


def check_once(state: AppState) -> int:
    """One pass: returns how many system alerts it opened or resolved."""
    with state.checkout() as conn:
        seen = status(state, conn)
        with transaction(conn):
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
