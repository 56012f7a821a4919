"""The system checks, run by the API process every ``[alerts] system_check_seconds`` or when due.

The API process runs them because the bridge cannot report its own absence, and the API is the process an
integrator is talking to. Each pass reads the age of the bridge's heartbeat, then opens or resolves the
``system`` alerts (:meth:`~monitor.store.ports.HealthStore.reconcile_system_alerts`). The first pass waits
one interval, so the bridge started beside the API has written its first heartbeat.

While every check passes, the next pass comes when the first of them could breach, if that is later than
the interval (:func:`monitor.system_checks.next_pass_seconds`): a heartbeat 5 s old cannot be 60 s old
sooner than 55 s from now. A breach is seen as soon as with a pass every interval, and a healthy site's
API wakes for this two to four times less often (each pass is a wake-up, a thread hand-off and a write
transaction, all day on a Pi: ``bench/bench_footprint.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from api.deps import AppState
from monitor.errors import StoreError
from monitor.store.ports import Store
from monitor.system_checks import SystemLimits, SystemStatus, evaluate, next_pass_seconds

log = logging.getLogger(__name__)


def limits(state: AppState) -> SystemLimits:
    alerts = state.settings.alerts
    return SystemLimits(
        bridge_down_seconds=alerts.bridge_down_seconds,
    )


def status(state: AppState, store: Store) -> SystemStatus:
    beat = store.heartbeat()
    return SystemStatus(heartbeat_age_seconds=None if beat is None else max(time.time() - beat.real_ts, 0.0))


@dataclass(frozen=True, slots=True)
class Pass:
    changes: int  # system alerts opened or resolved
    next_in_seconds: float  # how long the watch may wait before the next pass


def run_pass(state: AppState) -> Pass:
    """One pass of the checks, and when the next one is due."""
    bounds = limits(state)
    with state.session() as store:
        findings = evaluate(status(state, store), bounds)
        with store.transaction():
            # The real clock's high-water mark, raised by this process too and read back from the others.
            mark = store.raise_real_high_water(state.expiry_now())
            state.expiry_clock.raise_floor(mark, time.monotonic())
            changes = store.reconcile_system_alerts(findings, bounds, state.clock.wall())
    return Pass(changes, next_pass_seconds(findings, bounds, state.settings.alerts.system_check_seconds))


def check_once(state: AppState) -> int:
    """One pass: returns how many system alerts it opened or resolved."""
    return run_pass(state).changes


async def watch(state: AppState) -> None:
    """Run :func:`run_pass` until cancelled, each when the last one said; a failing pass is logged once, not
    each time, and retried after the interval."""
    failing = False
    wait = state.settings.alerts.system_check_seconds
    while True:
        await asyncio.sleep(wait)
        wait = state.settings.alerts.system_check_seconds
        try:
            wait = (await run_in_threadpool(run_pass, state)).next_in_seconds
        except (StoreError, OSError) as exc:
            if not failing:
                log.warning("system checks failing: %s", exc)
            failing = True
        else:
            if failing:
                log.info("system checks running again")
            failing = False
