"""API tokens over the API, for an admin token: list, create (the text shown once), revoke; all audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.auth import AdminDep
from api.deps import State, StoreDep
from api.schemas import iso
from api.token_schemas import Token, TokenCreate, TokenCreated
from monitor.store.ports import TokenRecord

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


def to_schema(t: TokenRecord, real_now: float) -> Token:
    return Token(
        name=t.name,
        scope=t.scope,
        token_id=t.token_id,
        created_at=iso(t.created_ts) or "",
        revoked_at=iso(t.revoked_ts),
        expires_at=iso(t.expires_ts),
        state=t.state(real_now),
    )


@router.get("", response_model=list[Token])
def list_tokens(store: StoreDep, state: State, who: AdminDep) -> list[Token]:
    return [to_schema(t, state.expiry_now()) for t in store.tokens()]


@router.post("", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, store: StoreDep, state: State, who: AdminDep) -> TokenCreated:
    """A new token; its text is in this answer only."""
    now = state.clock.wall()
    with store.transaction():
        real_now = state.expiry_now()
        expires = None if body.expires_in_seconds is None else real_now + body.expires_in_seconds
        record, text = store.create_token(body.name, body.scope, now, expires, who.actor)
    return TokenCreated(**to_schema(record, real_now).model_dump(), token=text)


@router.post("/{name:path}/revoke", response_model=Token)
def revoke_token(
    name: Annotated[str, Path(max_length=1000)], store: StoreDep, state: State, who: AdminDep
) -> Token:
    """Revoke the live token of this name: refused with 401 from now on.

    New names cannot hold a ``/``; a name an older version accepted with one still reaches here."""
    now = state.clock.wall()
    with store.transaction():
        record = store.revoke_token(name, now, who.actor)
    return to_schema(record, state.expiry_now())
