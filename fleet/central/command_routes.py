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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fleet.central import central_audit, commands, vial_relay
from fleet.central.connection import Conn, WriteConn
from fleet.central.operator_auth import Admin, Operator, Reader
from fleet.commands import CommandKind
from monitor.errors import InvalidRequest, NotFound

router = APIRouter(prefix="/api/v1/fleet")

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
SiteName = Annotated[str, Path(pattern=r"^[a-z0-9._-]{1,64}$")]
RowId = Annotated[int, Path(ge=1, le=2**62)]  # an alert's or a silence's id at its site
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="required: any 1 to 200 visible characters, new for each new request (a UUID will do);"
        " the same key from the same operator returns the first command again",
    ),
]


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


@contextmanager
def _refusals_as_http() -> Iterator[None]:
    """The store's refusals as answers: 404 for what does not exist, 422 for what cannot be done."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except InvalidRequest as exc:
        raise HTTPException(422, str(exc)) from exc


@dataclass(frozen=True, slots=True)
class CommandIssuer:
    """What every write route needs to issue its command and answer 202: the request's operator (a
    ``write`` token, checked), its connection and its idempotency key (checked when used)."""

    request: Request
    response: Response
    conn: psycopg.Connection[tuple[Any, ...]]
    operator: str
    idempotency_key: str | None

    def key(self) -> str:
        return _key(self.idempotency_key)

    def issue(self, site: str, kind: CommandKind, args: dict[str, Any]) -> dict[str, Any]:
        """Issue the command to ``site`` (or find the one this key issued), tell the publisher of a new
        one, and answer it with its ``Location``."""
        with _refusals_as_http():
            record, new = commands.issue(self.conn, self.operator, site, kind, args, self.key(), time.time())
        if new:
            wake: Callable[[str], None] = self.request.app.state.wake_publisher
            wake(site)
        self.response.headers["Location"] = f"/api/v1/fleet/commands/{record.id}"
        return asdict(record)


def _issuer(
    request: Request,
    response: Response,
    conn: WriteConn,
    operator: Operator,
    idempotency_key: IdempotencyKey = None,
) -> CommandIssuer:
    return CommandIssuer(request, response, conn, operator, idempotency_key)


Issuer = Annotated[CommandIssuer, Depends(_issuer)]


@router.post("/sites/{site}/alerts/{alert_id}/acknowledge", status_code=202)
def acknowledge(site: SiteName, alert_id: RowId, body: Acknowledgement, issuer: Issuer) -> dict[str, Any]:
    """Acknowledge a site's alert: a command to the site, applied there with its audit row."""
    args = {"alert_id": alert_id, "by": body.by, "comment": body.comment}
    return issuer.issue(site, "alert.acknowledge", args)


@router.post("/sites/{site}/silences", status_code=202)
def create_silence(site: SiteName, body: SilenceCreate, issuer: Issuer) -> dict[str, Any]:
    """Silence a site's alerts matching every matcher: a command to the site."""
    args = {
        "matchers": dict(body.matchers),
        "starts_ts": _ts(body.starts_at),
        "ends_ts": _ts(body.ends_at),
        "duration_seconds": body.duration_seconds,
        "created_by": body.created_by,
        "comment": body.comment,
    }
    return issuer.issue(site, "silence.create", args)


@router.post("/sites/{site}/silences/{silence_id}/expire", status_code=202)
def expire_silence(site: SiteName, silence_id: RowId, body: SilenceExpire, issuer: Issuer) -> dict[str, Any]:
    """End a site's silence now: a command to the site."""
    args = {"silence_id": silence_id, "by": body.by}
    return issuer.issue(site, "silence.expire", args)


@router.post("/vials/{key}/hand-over", status_code=202)
def hand_over_vial(
    key: Annotated[str, Path(min_length=1, max_length=200)],
    body: VialHandOver,
    issuer: Issuer,
) -> dict[str, Any]:
    """Hand a vial over from the site holding it to ``to_site``'s ``location``: a command to the first
    site, whose result's document central relays to the second as a receipt; follow both with
    ``GET /api/v1/fleet/commands/{id}`` (``steps``)."""
    args = {"key": key, "to_site": body.to_site, "location": body.location, "at": _ts(body.at)}
    conn = issuer.conn
    earlier = commands.by_key(conn, issuer.operator, issuer.key())
    if earlier is not None:  # a retry: the vial may have moved since, the command has not
        site = earlier.site
    else:
        with _refusals_as_http():
            site = vial_relay.owner(conn, key)
            vial_relay.check_destination(conn, body.to_site, body.location)
    out = issuer.issue(site, "vial.hand-over", args)
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
def get_command(command_id: str, conn: Conn, _: Reader) -> dict[str, Any]:
    """A command: ``queued`` until the site's result arrives, then ``applied`` or ``refused`` (``reason``);
    a vial's hand-over also ``relay``: both steps (the hand-over, the receipt) and the state of the two."""
    try:
        return _with_steps(conn, commands.get(conn, command_id))
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/audit")
def audit_trail(
    conn: Conn,
    _: Admin,
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
