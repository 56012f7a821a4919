"""GET /healthz: up, database reachable, age of the bridge heartbeat."""

from __future__ import annotations

import time

from fastapi import APIRouter, Response

from api.deps import State
from api.schemas import Health
from monitor.config import Settings
from monitor.errors import StoreError

router = APIRouter()

# The bridge writes a heartbeat with every commit (every bridge.commit_seconds); stale after three missed
# commits plus slack, and never sooner than this.
STALE_HEARTBEAT_SECONDS = 15.0


def stale_after_seconds(settings: Settings) -> float:
    """How old the bridge's heartbeat may grow before the bridge counts as down (/healthz, /metrics)."""
    return max(STALE_HEARTBEAT_SECONDS, 3.0 * settings.bridge.commit_seconds + 5.0)


@router.get(
    "/healthz",
    response_model=Health,
    tags=["health"],
    responses={503: {"model": Health, "description": "Degraded: the database is unreachable."}},
)
def healthz(state: State, response: Response) -> Health:
    try:
        with state.session() as store:
            beat = store.heartbeat()
    except StoreError as exc:
        response.status_code = 503
        return Health(
            status="degraded",
            database="unreachable",
            bridge_heartbeat_age_seconds=None,
            readings_total=None,
            detail=f"database unreachable: {exc}",
        )
    if beat is None:
        return Health(
            status="degraded",
            database="ok",
            bridge_heartbeat_age_seconds=None,
            readings_total=None,
            detail="the bridge has not written a heartbeat yet",
        )
    age = max(time.time() - beat.real_ts, 0.0)
    stale = age > stale_after_seconds(state.settings)
    return Health(
        status="degraded" if stale else "ok",
        database="ok",
        bridge_heartbeat_age_seconds=round(age, 3),
        readings_total=beat.readings_total,
        detail=f"bridge heartbeat is {age:.0f} s old" if stale else "bridge is writing readings",
    )
