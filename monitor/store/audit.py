"""The audit trail in the store: append a row to the hash chain, read it, check it.

:func:`append` must run inside the caller's write transaction (``BEGIN IMMEDIATE``), together with the
change it records: the previous hash is read and the new row written under one lock, so two writers (the
API and a command at the console) cannot both chain onto the same row, and no change commits unrecorded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from monitor.audit import GENESIS_HASH, AuditRow, ChainCheck, canonical, row_hash, verify

_COLUMNS = "id, ts, actor, action, subject, detail, prev_hash, hash"


def _row(row: tuple[object, ...]) -> AuditRow:
    return AuditRow(*row)  # type: ignore[arg-type]  # columns listed in field order


def _last_assigned_id(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    return 0 if row is None else int(row[0])


def append(
    conn: sqlite3.Connection, ts: float, actor: str, action: str, subject: str, detail: Mapping[str, Any]
) -> AuditRow:
    if not conn.in_transaction:
        raise RuntimeError("audit rows are appended inside the write transaction of the change they record")
    last = conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    prev_hash = GENESIS_HASH if last is None else str(last[0])
    row_id = _last_assigned_id(conn) + 1
    text = canonical(detail)
    digest = row_hash(prev_hash, row_id, ts, actor, action, subject, text)
    conn.execute(
        f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (row_id, ts, actor, action, subject, text, prev_hash, digest),
    )
    return AuditRow(row_id, ts, actor, action, subject, text, prev_hash, digest)


def entries(conn: sqlite3.Connection, after_id: int = 0, limit: int = 500) -> list[AuditRow]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM audit_log WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    ).fetchall()
    return [_row(r) for r in rows]


def check(conn: sqlite3.Connection) -> ChainCheck:
    """The whole chain checked from one committed state."""
    conn.execute("BEGIN")
    try:
        rows = (_row(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY id"))
        return verify(rows, _last_assigned_id(conn))
    finally:
        conn.execute("COMMIT")
