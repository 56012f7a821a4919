"""Silences: create, list, expire. Alerts they cover stay recorded and visible, flagged as silenced."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.auth import CallerDep
from api.deps import State, StoreDep
from api.params import RowId
from api.schemas import iso
from api.silence_schemas import Silence, SilenceCreate, SilenceExpire
from monitor.store.ports import SilenceRecord

router = APIRouter(prefix="/api/v1/silences", tags=["silences"])


def to_schema(s: SilenceRecord, now: float) -> Silence:
    return Silence(
        id=s.id,
        matchers=s.matchers,
        starts_at=iso(s.starts_ts),
        ends_at=iso(s.ends_ts),
        created_by=s.created_by,
        comment=s.comment,
        created_at=iso(s.created_ts),
        expired_by=s.expired_by,
        expired_at=iso(s.expired_ts),
        active=s.starts_ts <= now < s.ends_ts,
    )


@router.post("", response_model=Silence, status_code=status.HTTP_201_CREATED)
def create_silence(body: SilenceCreate, store: StoreDep, state: State, who: CallerDep) -> Silence:
    """Silence the alerts matching every matcher, from ``starts_at`` (default now) to the end given."""
    now = state.clock.wall()
    starts = now if body.starts_at is None else body.starts_at.timestamp()
    ends = starts + body.duration_seconds if body.duration_seconds is not None else 0.0
    if body.ends_at is not None:
        ends = body.ends_at.timestamp()
    with store.transaction():
        record = store.create_silence(
            dict(body.matchers), starts, ends, body.created_by.strip(), body.comment.strip(), now, who.actor
        )
    return to_schema(record, now)


@router.get("", response_model=list[Silence])
def list_silences(
    store: StoreDep,
    state: State,
    active: Annotated[bool, Query(description="only those in force now")] = False,
) -> list[Silence]:
    now = state.clock.wall()
    return [to_schema(s, now) for s in store.silences(active_at=now if active else None)]


@router.get("/{silence_id}", response_model=Silence)
def get_silence(silence_id: RowId, store: StoreDep, state: State) -> Silence:
    return to_schema(store.silence(silence_id), state.clock.wall())


@router.post("/{silence_id}/expire", response_model=Silence)
def expire_silence(
    silence_id: RowId, body: SilenceExpire, store: StoreDep, state: State, who: CallerDep
) -> Silence:
    """End a silence now; the alerts it covered are flagged unsilenced (a change pollers see)."""
    now = state.clock.wall()
    with store.transaction():
        record = store.expire_silence(silence_id, body.by.strip(), now, who.actor)
    return to_schema(record, now)
