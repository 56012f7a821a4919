"""Central's write routes: an operator acknowledges an alert or makes or ends a silence at a site, or
hands a vial over from one site to another; each becomes a command to the site that owns what it
changes (:mod:`fleet.central.commands`; a hand-over, two relayed: :mod:`fleet.central.vial_relay`),
answered 202 with the command to follow.

Writes need an operator token of scope ``write`` (:mod:`fleet.central.operators`: central's own tokens,
made with ``vialguard central-token create``) and an ``Idempotency-Key`` header: the same key from the same
operator returns the first command again, never a second one. Handlers are plain functions (FastAPI runs
them in its thread pool): psycopg's calls block and must stay off the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fleet.central import central_audit, commands, operators, vial_relay
from fleet.central.connection import WriteConn
from fleet.commands import CommandKind
from monitor import tokens
from monitor.errors import InvalidRequest, NotFound

router = APIRouter(prefix="/api/v1/fleet")

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
SiteName = Annotated[str, Path(pattern=r"^[a-z0-9._-]{1,64}$")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="required: any 1 to 200 visible characters, new for each new request (a UUID will do);"
        " the same key from the same operator returns the first command again",
    ),
]


def _operator(request: Request, conn: WriteConn) -> str:
    """The name of the operator whose ``write`` token the request carries; 401 or 403 otherwise."""
    text = tokens.bearer(request.headers.get("authorization"))
    challenge = {"WWW-Authenticate": "Bearer"}
    if text is None:
        raise HTTPException(
            401,
            "this request needs an operator token of scope 'write' (vialguard central-token create):"
            " Authorization: Bearer <token>",
            headers=challenge,
        )
    record = None if text == "" else operators.authenticate(conn, text, time.time())
    if record is None:
        raise HTTPException(
            401, "the operator token is not valid: unknown, revoked, expired or mistyped", headers=challenge
        )
    if not tokens.covers(record.scope, "write"):
        raise HTTPException(
            403, f"token {record.name!r} has scope {record.scope!r}; this request needs 'write'"
        )
    return record.name


Operator = Annotated[str, Depends(_operator)]


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: NonEmpty
    comment: NonEmpty


class SilenceCreate(BaseModel):
    """As the site's own ``POST /api/v1/silences``; a start left out is when the site applies it."""

    model_config = ConfigDict(extra="forbid")
    matchers: dict[str, Annotated[str, Field(min_length=1, max_length=200)]] = Field(max_length=7)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    duration_seconds: Annotated[float, Field(gt=0, le=366 * 86_400)] | None = None
    created_by: NonEmpty
    comment: NonEmpty

    @model_validator(mode="after")
    def _one_end(self) -> SilenceCreate:
        if (self.ends_at is None) == (self.duration_seconds is None):
            raise ValueError("give exactly one of ends_at and duration_seconds")
        return self


class VialHandOver(BaseModel):
    """Where the vial goes: a site of the fleet and one of its locations; when it left (default: when
    the site holding it applies the command)."""

    model_config = ConfigDict(extra="forbid")
    to_site: Annotated[str, StringConstraints(pattern=r"^[a-z0-9._-]{1,64}$")]
    location: NonEmpty
    at: AwareDatetime | None = None


class SilenceExpire(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: NonEmpty


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _key(value: str | None) -> str:
    if value is None:
        raise HTTPException(
            400, "this request needs an Idempotency-Key header (a new UUID for each new request)"
        )
    if not 1 <= len(value) <= 200 or not value.isascii() or not value.isprintable():
        raise HTTPException(400, "Idempotency-Key: 1 to 200 visible ASCII characters")
    return value


def _issue(
    request: Request,
    response: Response,
    conn: psycopg.Connection[tuple[Any, ...]],
    operator: str,
    site: str,
    kind: CommandKind,
    args: dict[str, Any],
    key: str | None,
) -> dict[str, Any]:
    try:
        record, new = commands.issue(conn, operator, site, kind, args, _key(key), time.time())
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except InvalidRequest as exc:
        raise HTTPException(422, str(exc)) from exc
    if new:
        wake: Callable[[str], None] = request.app.state.wake_publisher
        wake(site)
    response.headers["Location"] = f"/api/v1/fleet/commands/{record.id}"
    return asdict(record)


@router.post("/sites/{site}/alerts/{alert_id}/acknowledge", status_code=202)
def acknowledge(
    site: SiteName,
    alert_id: Annotated[int, Path(ge=1, le=2**62)],
    body: Acknowledgement,
    request: Request,
    response: Response,
    conn: WriteConn,
    operator: Operator,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Acknowledge a site's alert: a command to the site, applied there with its audit row."""
    args = {"alert_id": alert_id, "by": body.by, "comment": body.comment}
    return _issue(request, response, conn, operator, site, "alert.acknowledge", args, idempotency_key)


@router.post("/sites/{site}/silences", status_code=202)
def create_silence(
    site: SiteName,
    body: SilenceCreate,
    request: Request,
    response: Response,
    conn: WriteConn,
    operator: Operator,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Silence a site's alerts matching every matcher: a command to the site."""
    args = {
        "matchers": dict(body.matchers),
        "starts_ts": _ts(body.starts_at),
        "ends_ts": _ts(body.ends_at),
        "duration_seconds": body.duration_seconds,
        "created_by": body.created_by,
        "comment": body.comment,
    }
    return _issue(request, response, conn, operator, site, "silence.create", args, idempotency_key)


@router.post("/sites/{site}/silences/{silence_id}/expire", status_code=202)
def expire_silence(
    site: SiteName,
    silence_id: Annotated[int, Path(ge=1, le=2**62)],
    body: SilenceExpire,
    request: Request,
    response: Response,
    conn: WriteConn,
    operator: Operator,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """End a site's silence now: a command to the site."""
    args = {"silence_id": silence_id, "by": body.by}
    return _issue(request, response, conn, operator, site, "silence.expire", args, idempotency_key)


@router.post("/vials/{key}/hand-over", status_code=202)
def hand_over_vial(
    key: Annotated[str, Path(min_length=1, max_length=200)],
    body: VialHandOver,
    request: Request,
    response: Response,
    conn: WriteConn,
    operator: Operator,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Hand a vial over from the site holding it to ``to_site``'s ``location``: a command to the first
    site, whose result's document central relays to the second as a receipt; follow both with
    ``GET /api/v1/fleet/commands/{id}`` (``steps``)."""
    args = {"key": key, "to_site": body.to_site, "location": body.location, "at": _ts(body.at)}
    earlier = commands.by_key(conn, operator, _key(idempotency_key))
    if earlier is not None:  # a retry: the vial may have moved since, the command has not
        site = earlier.site
    else:
        try:
            site = vial_relay.owner(conn, key)
            vial_relay.check_destination(conn, body.to_site, body.location)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc
        except InvalidRequest as exc:
            raise HTTPException(422, str(exc)) from exc
    out = _issue(request, response, conn, operator, site, "vial.hand-over", args, idempotency_key)
    return _with_steps(conn, commands.get(conn, out["id"]))


def _with_steps(conn: psycopg.Connection[tuple[Any, ...]], record: commands.CommandRecord) -> dict[str, Any]:
    """A command as answered; a vial's hand-over or receipt with the relay's ``steps`` and its state."""
    out = asdict(record)
    if record.kind in (vial_relay.HAND_OVER, vial_relay.RECEIVE):
        steps = vial_relay.steps(conn, record)
        state, reason = vial_relay.relay_state(steps)
        out["relay"] = {"state": state, "reason": reason, "steps": [asdict(s) for s in steps]}
    return out


@router.get("/commands/{command_id}")
def get_command(command_id: str, conn: WriteConn) -> dict[str, Any]:
    """A command: ``queued`` until the site's result arrives, then ``applied`` or ``refused`` (``reason``);
    a vial's hand-over also ``relay``: both steps (the hand-over, the receipt) and the state of the two."""
    try:
        return _with_steps(conn, commands.get(conn, command_id))
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/audit")
def audit_trail(
    conn: WriteConn,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=0, le=1000)] = 100,
) -> dict[str, Any]:
    """Central's own audit trail, verified with the sites' code: its check, and rows after ``after``."""
    check = central_audit.check(conn)
    return {
        "rows": check.rows,
        "head_hash": check.head_hash,
        "intact": check.intact,
        "problems": list(check.problems),
        "entries": [asdict(r) for r in central_audit.entries(conn, after, limit)],
    }
