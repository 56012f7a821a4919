"""Silences: create, list, expire. Alerts they cover stay recorded and visible, flagged as silenced."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import Conn, State
from api.schemas import iso
from api.silence_schemas import Silence, SilenceCreate, SilenceExpire
from monitor.store import silences as silence_store
from monitor.store.database import transaction

router = APIRouter(prefix="/api/v1/silences", tags=["silences"])


def to_schema(s: silence_store.SilenceRecord, now: float) -> Silence:
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
def create_silence(body: SilenceCreate, conn: Conn, state: State) -> Silence:
    """Silence the alerts matching every matcher, from ``starts_at`` (default now) to the end given."""
    now = state.clock.wall()
    starts = now if body.starts_at is None else body.starts_at.timestamp()
    ends = starts + body.duration_seconds if body.duration_seconds is not None else 0.0
    if body.ends_at is not None:
        ends = body.ends_at.timestamp()
    with transaction(conn):
        record = silence_store.create(
            conn, dict(body.matchers), starts, ends, body.created_by.strip(), body.comment.strip(), now
        )
    return to_schema(record, now)


@router.get("", response_model=list[Silence])
def list_silences(
    conn: Conn,
    state: State,
    active: Annotated[bool, Query(description="only those in force now")] = False,
) -> list[Silence]:
    now = state.clock.wall()
    return [to_schema(s, now) for s in silence_store.list_all(conn, active_at=now if active else None)]


@router.get("/{silence_id}", response_model=Silence)
def get_silence(silence_id: int, conn: Conn, state: State) -> Silence:
    return to_schema(silence_store.get(conn, silence_id), state.clock.wall())


@router.post("/{silence_id}/expire", response_model=Silence)
def expire_silence(silence_id: int, body: SilenceExpire, conn: Conn, state: State) -> Silence:
    """End a silence now; the alerts it covered are flagged unsilenced (a change pollers see)."""
    now = state.clock.wall()
    with transaction(conn):
        record = silence_store.expire(conn, silence_id, body.by.strip(), now)
    return to_schema(record, now)
