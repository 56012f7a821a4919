"""GET /api/v1/system-events: what vialguard recorded about itself, not about the vials.

Clock jumps, unclean shutdowns (the outage they name is a data gap) and webhook changes skipped beyond a
receiver's ``max_backlog_changes`` land in ``system_events``; the IT person installing the Pi and an
integrator whose receiver was down read them here instead of in the database file.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import StoreDep

router = APIRouter(prefix="/api/v1", tags=["health"])


class SystemEvent(BaseModel):
    id: int
    ts: float
    kind: str  # clock-jump, unclean-shutdown, webhook-backlog-skipped
    detail: str


@router.get("/system-events", response_model=list[SystemEvent])
def list_system_events(
    store: StoreDep,
    kind: Annotated[str | None, Query(max_length=64, description="only events of this kind")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SystemEvent]:
    """The newest events first, at most ``limit``."""
    return [
        SystemEvent(id=e.id, ts=e.ts, kind=e.kind, detail=e.detail) for e in store.system_events(kind, limit)
    ]
