"""The system checks, run by the API process every ``[alerts] system_check_seconds``.

The API process runs them because the bridge cannot report its own absence, and the API is the process an
integrator is talking to. Each pass reads the age of the bridge's heartbeat, then opens or resolves the
``system`` alerts (:meth:`~monitor.store.ports.HealthStore.reconcile_system_alerts`). The first pass waits
one interval, so the bridge started beside the API has written its first heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.concurrency import run_in_threadpool

from api.deps import AppState
from monitor.errors import StoreError
from monitor.store.ports import Store
from monitor.system_checks import SystemLimits, SystemStatus, evaluate

log = logging.getLogger(__name__)


def limits(state: AppState) -> SystemLimits:
    alerts = state.settings.alerts
    return SystemLimits(
        bridge_down_seconds=alerts.bridge_down_seconds,
    )


def status(state: AppState, store: Store) -> SystemStatus:
    beat = store.heartbeat()
    return SystemStatus(heartbeat_age_seconds=None if beat is None else max(time.time() - beat.real_ts, 0.0))


def check_once(state: AppState) -> int:
    """One pass: returns how many system alerts it opened or resolved."""
    with state.session() as store:
        seen = status(state, store)
        with store.transaction():
            # The real clock's high-water mark, raised by this process too and read back from the others.
            mark = store.raise_real_high_water(state.expiry_now())
            state.expiry_clock.raise_floor(mark, time.monotonic())
            return store.reconcile_system_alerts(
                evaluate(seen, limits(state)), limits(state), state.clock.wall()
            )


async def watch(state: AppState) -> None:
    """Run :func:`check_once` every interval until cancelled; a failing pass is logged once, not each time."""
    failing = False
    while True:
        await asyncio.sleep(state.settings.alerts.system_check_seconds)
        try:
            await run_in_threadpool(check_once, state)
        except (StoreError, OSError) as exc:
            if not failing:
                log.warning("system checks failing: %s", exc)
            failing = True
        else:
            if failing:
                log.info("system checks running again")
            failing = False
