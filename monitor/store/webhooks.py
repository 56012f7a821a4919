"""Webhook endpoints and the outbox in the store.

The outbox is filled by a trigger (schema migration ``_WEBHOOK_OUTBOX``) in the same transaction as each
alert change, while at least one endpoint is registered. Each endpoint keeps ``delivered_seq``: every
change up to it has been accepted by that receiver. Rows every endpoint has passed are deleted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.store import alerts as alert_store
from monitor.webhooks import OutboxRow


@dataclass(frozen=True)
class EndpointState:
    url: str
    delivered_seq: int
    attempts: int
    next_attempt_ts: float
    last_error: str
    delivered_ts: float | None


def sync_endpoints(conn: sqlite3.Connection, urls: Iterable[str]) -> None:
    """Register the configured endpoints and drop the others; inside the caller's write transaction.

    A new endpoint starts at the newest change: it receives every change from now on, not the history
    (which ``GET /api/v1/alerts?since=0`` gives). The newest seq is read under the write lock, so no change
    falls between it and the trigger seeing the endpoint.
    """
    wanted = set(urls)
    latest = alert_store.latest_seq(conn)
    for url in sorted(wanted):
        conn.execute(
            "INSERT INTO webhook_endpoints (url, delivered_seq) VALUES (?, ?) ON CONFLICT(url) DO NOTHING",
            (url, latest),
        )
    for (url,) in conn.execute("SELECT url FROM webhook_endpoints").fetchall():
        if url not in wanted:
            conn.execute("DELETE FROM webhook_endpoints WHERE url = ?", (url,))
    purge_delivered(conn)


def endpoint(conn: sqlite3.Connection, url: str) -> EndpointState:
    row = conn.execute(
        "SELECT url, delivered_seq, attempts, next_attempt_ts, last_error, delivered_ts"
        " FROM webhook_endpoints WHERE url = ?",
        (url,),
    ).fetchone()
    return EndpointState(*row)


def next_change(conn: sqlite3.Connection, after_seq: int) -> OutboxRow | None:
    row = conn.execute(
        "SELECT seq, alert_id, event_kind, event_ts, event_detail, alert FROM webhook_outbox"
        " WHERE seq > ? ORDER BY seq LIMIT 1",
        (after_seq,),
    ).fetchone()
    return None if row is None else OutboxRow(*row)


def mark_delivered(conn: sqlite3.Connection, url: str, seq: int, ts: float) -> None:
    conn.execute(
        "UPDATE webhook_endpoints SET delivered_seq = ?, attempts = 0, next_attempt_ts = 0, last_error = '',"
        " delivered_ts = ? WHERE url = ?",
        (seq, ts, url),
    )


@dataclass(frozen=True)
class Skipped:
    url: str
    count: int
    first_seq: int
    last_seq: int


def skip_beyond(conn: sqlite3.Connection, url: str, keep: int) -> Skipped | None:
    """Move ``url`` past its oldest unaccepted changes so that at most ``keep`` wait; inside the caller's
    write transaction. The changes kept are the newest, in order, and are still sent."""
    delivered = endpoint(conn, url).delivered_seq
    waiting, first = conn.execute(
        "SELECT COUNT(*), MIN(seq) FROM webhook_outbox WHERE seq > ?", (delivered,)
    ).fetchone()
    if waiting <= keep:
        return None
    (last,) = conn.execute(
        "SELECT seq FROM webhook_outbox WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?",
        (delivered, waiting - keep - 1),
    ).fetchone()
    conn.execute("UPDATE webhook_endpoints SET delivered_seq = ? WHERE url = ?", (last, url))
    return Skipped(url, int(waiting - keep), int(first), int(last))


def mark_failed(
    conn: sqlite3.Connection, url: str, attempts: int, next_attempt_ts: float, error: str
) -> None:
    conn.execute(
        "UPDATE webhook_endpoints SET attempts = ?, next_attempt_ts = ?, last_error = ? WHERE url = ?",
        (attempts, next_attempt_ts, error[:500], url),
    )


def purge_delivered(conn: sqlite3.Connection) -> int:
    """Delete outbox rows every endpoint has accepted (all of them when no endpoint is left)."""
    low = conn.execute("SELECT MIN(delivered_seq) FROM webhook_endpoints").fetchone()[0]
    if low is None:
        return conn.execute("DELETE FROM webhook_outbox").rowcount
    return conn.execute("DELETE FROM webhook_outbox WHERE seq <= ?", (low,)).rowcount


def pending(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM webhook_outbox").fetchone()[0])


def endpoints(conn: sqlite3.Connection) -> list[EndpointState]:
    """Every registered endpoint's delivery state, ordered by URL."""
    rows = conn.execute(
        "SELECT url, delivered_seq, attempts, next_attempt_ts, last_error, delivered_ts"
        " FROM webhook_endpoints ORDER BY url"
    ).fetchall()
    return [EndpointState(*row) for row in rows]
