"""Central's operators and their API tokens, in central's PostgreSQL.

Central has its own tokens: a site's tokens live in that site's SQLite and say nothing about who may
write to the whole fleet. They are made and checked exactly as a site's (:mod:`monitor.tokens`:
``vg_<token_id>_<secret>``, only the SHA-256 stored, scopes ``read`` < ``write`` < ``admin``), with
``vialguard central-token create NAME --scope write --database URL``; a write at central (a command to a
site) needs ``write``. Making or revoking one is recorded in central's audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import psycopg

from fleet.central import central_audit
from monitor import tokens
from monitor.errors import InvalidRequest, NotFound
from monitor.tokens import Scope

Connection = psycopg.Connection[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class OperatorToken:
    token_id: str
    name: str
    scope: Scope
    created_ts: float
    expires_ts: float | None
    revoked_ts: float | None

    def state(self, now: float) -> str:
        """``live``, ``revoked`` or ``expired`` at ``now``."""
        if self.revoked_ts is not None:
            return "revoked"
        return "expired" if self.expires_ts is not None and self.expires_ts <= now else "live"


_COLUMNS = "token_id, name, scope, created_at, expires_at, revoked_at"


def _moment(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _token(r: tuple[Any, ...]) -> OperatorToken:
    return OperatorToken(str(r[0]), str(r[1]), cast(Scope, r[2]), r[3].timestamp(), _ts(r[4]), _ts(r[5]))


def create(
    conn: Connection, name: str, scope: Scope, now: float, expires_ts: float | None, actor: str
) -> tuple[OperatorToken, str]:
    """A new operator token and its text (shown once, never stored), recorded in central's audit trail."""
    name = name.strip()
    if (problem := tokens.name_problem(name)) is not None:
        raise InvalidRequest(f"token name: {problem}")
    if scope not in tokens.SCOPES:
        raise InvalidRequest(f"token scope: {scope!r} is not one of {', '.join(tokens.SCOPES)}")
    issued = tokens.issue()
    with conn.transaction():
        if conn.execute(
            "SELECT 1 FROM operator_tokens WHERE name = %s AND revoked_at IS NULL", (name,)
        ).fetchone():
            raise InvalidRequest(f"token name: a token named {name!r} is not revoked; revoke it first")
        row = conn.execute(
            "INSERT INTO operator_tokens (token_id, name, scope, sha256, created_at, expires_at)"
            f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
            (issued.token_id, name, scope, issued.sha256, _moment(now), _moment(expires_ts)),
        ).fetchone()
        assert row is not None
        record = _token(row)
        detail = {"name": name, "scope": scope, "token_id": issued.token_id, "expires_ts": expires_ts}
        central_audit.append(conn, now, actor, "operator-token.created", f"operator:{name}", detail)
    return record, issued.text


def revoke(conn: Connection, name: str, now: float, actor: str) -> OperatorToken:
    """Revoke the live token of this name (:class:`NotFound` if none), recorded in central's trail."""
    with conn.transaction():
        row = conn.execute(
            f"UPDATE operator_tokens SET revoked_at = %s WHERE name = %s AND revoked_at IS NULL"
            f" RETURNING {_COLUMNS}",
            (_moment(now), name),
        ).fetchone()
        if row is None:
            raise NotFound(f"no unrevoked operator token named {name!r}")
        record = _token(row)
        detail = {"name": name, "scope": record.scope, "token_id": record.token_id}
        central_audit.append(conn, now, actor, "operator-token.revoked", f"operator:{name}", detail)
    return record


def list_all(conn: Connection) -> list[OperatorToken]:
    return [_token(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM operator_tokens ORDER BY id")]


def authenticate(conn: Connection, text: str, now: float) -> OperatorToken | None:
    """The live token ``text`` is, or None (unknown, malformed, revoked, expired)."""
    token_id = tokens.token_id_of(text)
    if token_id is None:
        return None
    row = conn.execute(
        f"SELECT {_COLUMNS}, sha256 FROM operator_tokens WHERE token_id = %s", (token_id,)
    ).fetchone()
    if row is None or not tokens.matches(text, str(row[6])):
        return None
    record = _token(row)
    return record if record.state(now) == "live" else None
