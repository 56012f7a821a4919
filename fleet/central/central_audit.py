"""Central's own audit trail: who asked central for what, and when (a command issued, its result, an
operator's token made or revoked), hash-chained exactly as a site's trail is (:mod:`monitor.audit`), so
the same :func:`monitor.audit.verify` checks it; it lives beside the sites' mirrored chains.

Ids come from the ``central_audit`` counter, moved in the appending transaction: its row lock orders
two appends, so both never chain onto the same row, and the counter keeps the last id ever given out,
so a deleted last row shows as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg

from monitor.audit import GENESIS_HASH, AuditRow, ChainCheck, canonical, row_hash, verify

Connection = psycopg.Connection[tuple[Any, ...]]

_COLUMNS = "id, ts, actor, action, subject, detail, prev_hash, hash"


def _row(r: tuple[Any, ...]) -> AuditRow:
    return AuditRow(int(r[0]), float(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), str(r[6]), str(r[7]))


def append(
    conn: Connection, ts: float, actor: str, action: str, subject: str, detail: Mapping[str, Any]
) -> AuditRow:
    """Chain a row onto central's trail; inside the transaction of the action it records."""
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        raise RuntimeError("central's audit rows are appended inside the transaction of what they record")
    counter = conn.execute(
        "UPDATE fleet_counters SET value = value + 1 WHERE name = 'central_audit' RETURNING value"
    ).fetchone()
    assert counter is not None
    row_id = int(counter[0])
    last = conn.execute("SELECT hash FROM central_audit ORDER BY id DESC LIMIT 1").fetchone()
    prev_hash = GENESIS_HASH if last is None else str(last[0])
    text = canonical(detail)
    digest = row_hash(prev_hash, row_id, ts, actor, action, subject, text)
    conn.execute(
        f"INSERT INTO central_audit ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (row_id, ts, actor, action, subject, text, prev_hash, digest),
    )
    return AuditRow(row_id, ts, actor, action, subject, text, prev_hash, digest)


def entries(conn: Connection, after_id: int = 0, limit: int = 500) -> list[AuditRow]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM central_audit WHERE id > %s ORDER BY id LIMIT %s", (after_id, limit)
    ).fetchall()
    return [_row(r) for r in rows]


def check(conn: Connection) -> ChainCheck:
    """The whole chain, checked with the sites' own code. The counter is read first and the rows up to
    it after: a row committed in between is left for the next check, never taken for a deletion."""
    counter = conn.execute("SELECT value FROM fleet_counters WHERE name = 'central_audit'").fetchone()
    last_assigned = 0 if counter is None else int(counter[0])
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM central_audit WHERE id <= %s ORDER BY id", (last_assigned,)
    ).fetchall()
    return verify((_row(r) for r in rows), last_assigned)
