"""The fleet's alert feed (``alert_feed``): every alert change central receives from a site, and central's
own alerts' changes (:mod:`fleet.central.central_alerts`), each numbered from the feed's counter moved in
the transaction that stores the change. The counter's row lock orders those transactions, so the
numbers commit in order and a reader following the cursor never misses a change committed behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

Connection = psycopg.Connection[tuple[Any, ...]]


def append(conn: Connection, site: str, alerts: Sequence[dict[str, Any]], received: datetime) -> int:
    """Number the alert changes (each with its ``id`` and ``event_seq``) from the feed's counter, in the
    caller's transaction; returns how many."""
    if not alerts:
        return 0
    row = conn.execute(
        "UPDATE fleet_counters SET value = value + %s WHERE name = 'alert_feed' RETURNING value",
        (len(alerts),),
    ).fetchone()
    assert row is not None
    first = int(row[0]) - len(alerts) + 1
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO alert_feed (cursor, site, alert_id, event_seq, record, received_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (first + i, site, int(a["id"]), int(a["event_seq"]), Jsonb(a), received)
                for i, a in enumerate(alerts)
            ],
        )
    return len(alerts)
