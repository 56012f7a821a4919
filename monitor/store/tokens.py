"""API tokens in the store: create (returning the token's text once), list, revoke, authenticate.

A token may carry an expiry (``expires_ts``, on the real clock, also in simulation: a token is a
credential, not a reading); past it, it is refused as a revoked one is.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from monitor import tokens
from monitor.errors import InvalidRequest, NotFound
from monitor.store import audit
from monitor.tokens import Scope


@dataclass(frozen=True)
class TokenRecord:
    id: int
    token_id: str
    name: str
    scope: Scope
    created_ts: float
    revoked_ts: float | None
    expires_ts: float | None = None

    def state(self, now: float) -> str:
        """``live``, ``revoked`` or ``expired`` at real time ``now``."""
        if self.revoked_ts is not None:
            return "revoked"
        return "expired" if self.expires_ts is not None and self.expires_ts <= now else "live"


_COLUMNS = "id, token_id, name, scope, created_ts, revoked_ts, expires_ts"


def _record(row: tuple[object, ...]) -> TokenRecord:
    return TokenRecord(*row)  # type: ignore[arg-type]  # columns listed in field order


def create(
    conn: sqlite3.Connection, name: str, scope: Scope, ts: float, expires_ts: float | None = None
) -> tuple[TokenRecord, str]:
    """A new token; returns its record and its text, which is not kept and cannot be shown again.

    ``expires_ts``: real time after which it is refused (None: until revoked)."""
    name = name.strip()
    if not name:
        raise InvalidRequest("token name: must not be empty")
    if (problem := tokens.name_problem(name)) is not None:
        raise InvalidRequest(f"token name: {problem}")
    if scope not in tokens.SCOPES:
        raise InvalidRequest(f"token scope: {scope!r} is not one of {', '.join(tokens.SCOPES)}")
    if conn.execute("SELECT 1 FROM api_tokens WHERE name = ? AND revoked_ts IS NULL", (name,)).fetchone():
        raise InvalidRequest(
            f"token name: a token named {name!r} is not revoked (live or expired); revoke it first"
        )
    issued = tokens.issue()
    cur = conn.execute(
        "INSERT INTO api_tokens (token_id, name, scope, sha256, created_ts, expires_ts)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (issued.token_id, name, scope, issued.sha256, ts, expires_ts),
    )
    return get(conn, int(cur.lastrowid or 0)), issued.text


def _audit_detail(record: TokenRecord) -> dict[str, object]:
    return {"name": record.name, "scope": record.scope, "token_id": record.token_id}


def create_audited(
    conn: sqlite3.Connection, name: str, scope: Scope, ts: float, expires_ts: float | None, actor: str
) -> tuple[TokenRecord, str]:
    """:func:`create`, with its audit row (``token.created`` by ``actor``) in the caller's transaction:
    the console and the API record a token alike."""
    record, text = create(conn, name, scope, ts, expires_ts)
    detail = {**_audit_detail(record), "expires_ts": record.expires_ts}
    audit.append(conn, ts, actor, "token.created", f"token:{record.name}", detail)
    return record, text


def revoke_audited(conn: sqlite3.Connection, name: str, ts: float, actor: str) -> TokenRecord:
    """:func:`revoke`, with its audit row (``token.revoked`` by ``actor``) in the caller's transaction."""
    record = revoke(conn, name, ts)
    audit.append(conn, ts, actor, "token.revoked", f"token:{record.name}", _audit_detail(record))
    return record


def get(conn: sqlite3.Connection, row_id: int) -> TokenRecord:
    row = conn.execute(f"SELECT {_COLUMNS} FROM api_tokens WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        raise NotFound(f"no token with id {row_id}")
    return _record(row)


def list_all(conn: sqlite3.Connection) -> list[TokenRecord]:
    return [_record(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM api_tokens ORDER BY id")]


def revoke(conn: sqlite3.Connection, name: str, ts: float) -> TokenRecord:
    """Revoke the live token of this name: from now on it is refused with 401."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM api_tokens WHERE name = ? AND revoked_ts IS NULL", (name,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no unrevoked token named {name!r}")
    record = _record(row)
    conn.execute("UPDATE api_tokens SET revoked_ts = ? WHERE id = ?", (ts, record.id))
    return get(conn, record.id)


def authenticate(conn: sqlite3.Connection, text: str, now: float) -> TokenRecord | None:
    """The live token whose text this is at real time ``now``, or None (malformed, unknown, revoked,
    expired or wrong secret)."""
    token_id = tokens.token_id_of(text)
    if token_id is None:
        return None
    row = conn.execute(
        f"SELECT {_COLUMNS}, sha256 FROM api_tokens WHERE token_id = ? AND revoked_ts IS NULL"
        " AND (expires_ts IS NULL OR expires_ts > ?)",
        (token_id, now),
    ).fetchone()
    if row is None or not tokens.matches(text, str(row[-1])):
        return None
    return _record(row[:-1])
