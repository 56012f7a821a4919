"""Writes from central: an operator's request becomes a command to the site that owns what it changes.

:func:`issue` stores the command (``queued``) with its idempotency key and its row in central's audit
trail, in one transaction: the same key from the same operator finds the first command, so a retried
request never makes two, and a key reused for a different request is refused. The publisher
(:mod:`fleet.central.dispatch`) sends every queued command to its site until :func:`record_result`
stores the site's answer (``applied``, or ``refused`` with the site's reason) and records it in
central's trail. The change itself reaches central as every change at a site does, through the site's
outbox: the acknowledged alert in the fleet's feed, the site's audit row in its mirrored chain.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
from psycopg.types.json import Jsonb

from fleet.central import central_audit
from fleet.commands import Command, CommandKind, CommandResult
from monitor.audit import canonical
from monitor.errors import InvalidRequest, NotFound

Connection = psycopg.Connection[tuple[Any, ...]]

# How central's operators are named: in central's trail, and (after "central:") in the site's.
OPERATOR_PREFIX = "operator:"
SITE_ACTOR_PREFIX = "central:"


@dataclass(frozen=True, slots=True)
class CommandRecord:
    id: str
    site: str
    kind: CommandKind
    args: dict[str, Any]
    operator: str
    idempotency_key: str
    state: str  # queued, applied, refused
    reason: str | None
    result: dict[str, Any] | None
    created_ts: float
    published_ts: float | None
    publications: int
    resolved_ts: float | None

    def message(self) -> Command:
        """The command as published to its site."""
        return Command(
            self.id, self.site, self.kind, SITE_ACTOR_PREFIX + self.operator, self.args, self.created_ts
        )


_COLUMNS = (
    "id::text, site, kind, args, operator, idempotency_key, state, reason, result, created_at, published_at,"
    " publications, resolved_at"
)


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _moment(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _record(r: tuple[Any, ...]) -> CommandRecord:
    return CommandRecord(
        id=str(r[0]),
        site=str(r[1]),
        kind=cast(CommandKind, r[2]),
        args=dict(r[3]),
        operator=str(r[4]),
        idempotency_key=str(r[5]),
        state=str(r[6]),
        reason=r[7],
        result=None if r[8] is None else dict(r[8]),
        created_ts=r[9].timestamp(),
        published_ts=_ts(r[10]),
        publications=int(r[11]),
        resolved_ts=_ts(r[12]),
    )


def _request_digest(site: str, kind: CommandKind, args: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({"site": site, "kind": kind, "args": args}).encode()).hexdigest()


def _by_key(conn: Connection, operator: str, key: str) -> tuple[CommandRecord, str] | None:
    row = conn.execute(
        f"SELECT {_COLUMNS}, request_sha256 FROM commands WHERE operator = %s AND idempotency_key = %s",
        (operator, key),
    ).fetchone()
    return None if row is None else (_record(row), str(row[13]))


def _same_request(found: tuple[CommandRecord, str], digest: str) -> CommandRecord:
    record, stored = found
    if stored != digest:
        raise InvalidRequest(
            f"Idempotency-Key {record.idempotency_key!r} was already used for another request"
            f" (command {record.id}); use a new key for a new request"
        )
    return record


def _check_target(conn: Connection, site: str, kind: CommandKind, args: dict[str, Any]) -> None:
    if conn.execute("SELECT 1 FROM sites WHERE site = %s", (site,)).fetchone() is None:
        raise NotFound(f"no site named {site!r} has reported to central")
    if kind == "alert.acknowledge":
        known = conn.execute(
            "SELECT 1 FROM alert_feed WHERE site = %s AND alert_id = %s LIMIT 1", (site, args["alert_id"])
        ).fetchone()
        if known is None:
            raise NotFound(f"site {site!r} has sent central no alert with id {args['alert_id']}")


def issue(
    conn: Connection,
    operator: str,
    site: str,
    kind: CommandKind,
    args: dict[str, Any],
    idempotency_key: str,
    now: float,
) -> tuple[CommandRecord, bool]:
    """The command for this request, and whether it is new (False: the key's first request, returned
    again). :class:`NotFound` for an unknown site or alert; :class:`InvalidRequest` for a key reused."""
    digest = _request_digest(site, kind, args)
    with conn.transaction():
        found = _by_key(conn, operator, idempotency_key)
        if found is not None:
            return _same_request(found, digest), False
        _check_target(conn, site, kind, args)
        command_id = str(uuid.uuid4())
        inserted = conn.execute(
            "INSERT INTO commands (id, site, kind, args, operator, idempotency_key, request_sha256, state,"
            " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 'queued', %s)"
            f" ON CONFLICT (operator, idempotency_key) DO NOTHING RETURNING {_COLUMNS}",
            (command_id, site, kind, Jsonb(args), operator, idempotency_key, digest, _moment(now)),
        ).fetchone()
        if inserted is None:  # the same key, committed meanwhile by a concurrent request
            found = _by_key(conn, operator, idempotency_key)
            assert found is not None
            return _same_request(found, digest), False
        record = _record(inserted)
        detail = {"command": record.id, "kind": kind, "args": args, "idempotency_key": idempotency_key}
        central_audit.append(conn, now, OPERATOR_PREFIX + operator, "command.issued", f"site:{site}", detail)
    return record, True


def by_key(conn: Connection, operator: str, key: str) -> CommandRecord | None:
    """The operator's command made with this idempotency key, if any."""
    found = _by_key(conn, operator, key)
    return None if found is None else found[0]


def get(conn: Connection, command_id: str) -> CommandRecord:
    """One command; :class:`NotFound` if there is none of that id."""
    try:
        uuid.UUID(command_id)
    except ValueError:
        raise NotFound(f"no command with id {command_id!r}") from None
    row = conn.execute(f"SELECT {_COLUMNS} FROM commands WHERE id = %s", (command_id,)).fetchone()
    if row is None:
        raise NotFound(f"no command with id {command_id!r}")
    return _record(row)


def queued(conn: Connection, sites: set[str] | None = None) -> list[CommandRecord]:
    """Commands waiting for their site's result, oldest first; of ``sites`` only, when given."""
    if sites is None:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM commands WHERE state = 'queued' ORDER BY created_at, id"
        ).fetchall()
    else:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM commands WHERE state = 'queued' AND site = ANY(%s)"
            " ORDER BY created_at, id",
            (list(sites),),
        ).fetchall()
    return [_record(r) for r in rows]


def published(conn: Connection, command_ids: list[str], now: float) -> None:
    """Note that these commands were published (once more) at ``now``."""
    with conn.transaction():
        conn.execute(
            "UPDATE commands SET published_at = %s, publications = publications + 1"
            " WHERE id = ANY(%s::uuid[])",
            (_moment(now), command_ids),
        )


def record_result(conn: Connection, result: CommandResult, now: float) -> bool:
    """Store a site's result for a queued command of that site, with its row in central's trail; inside
    the caller's transaction. False for a result already stored (a duplicate) or not for a command here."""
    try:
        uuid.UUID(result.id)
    except ValueError:
        return False
    row = conn.execute(
        "UPDATE commands SET state = %s, reason = %s, result = %s, resolved_at = %s"
        " WHERE id = %s AND site = %s AND state = 'queued' RETURNING kind",
        (result.outcome, result.reason, Jsonb(result.detail), _moment(now), result.id, result.site),
    ).fetchone()
    if row is None:
        return False
    detail = {"command": result.id, "reason": result.reason, "detail": result.detail}
    central_audit.append(
        conn, now, f"site:{result.site}", f"command.{result.outcome}", f"command:{result.id}", detail
    )
    return True
