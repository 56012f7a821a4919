"""Rows central keeps apart because it holds their site id with another content (``site_record_conflicts``:
a restored site database numbers its ids anew, so vial event 7 of the lost timeline and of the restored
one are different events), and central's own alert that tells an operator of them.

The rows are kept, and the alert raised or updated, in the ingesting transaction that found them, so
neither can be lost without the other. The alert (rule :data:`RULE`, :mod:`fleet.central.central_alerts`)
counts the site's conflicts no operator has yet seen: those not told of by an alert already acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from fleet.central import central_alerts
from fleet.protocol import Batch, Row

Connection = psycopg.Connection[tuple[Any, ...]]

RULE = "central-record-conflicts"


def keep(conn: Connection, batch: Batch, rows: Sequence[tuple[Row, str]], received: datetime) -> int:
    """Keep apart the rows (with their site ids) that were not stored because central holds their id with
    another content, and tell of them in central's alert for the site; returns how many were kept."""
    if not rows:
        return 0
    kept = conn.execute(
        "INSERT INTO site_record_conflicts (site, epoch, seq, kind, natural_key, record, received_at)"
        " SELECT %s, %s, u.seq, u.kind, u.natural_key, u.record, %s"
        " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::jsonb[]) AS u(seq, kind, natural_key, record)"
        " JOIN site_records AS s ON s.site = %s AND s.kind = u.kind AND s.natural_key = u.natural_key"
        " WHERE s.record <> u.record ON CONFLICT DO NOTHING",
        (
            batch.site,
            batch.epoch,
            received,
            [r.seq for r, _ in rows],
            [r.kind for r, _ in rows],
            [key for _, key in rows],
            [Jsonb(r.record) for r, _ in rows],
            batch.site,
        ),
    ).rowcount
    if kept:
        _alert(conn, batch.site, received)
    return kept


def _alert(conn: Connection, site: str, received: datetime) -> None:
    """Raise central's alert for the site's unseen conflicts, or bring the standing one's count up."""
    alert = central_alerts.standing(conn, site, RULE)
    conn.execute(
        "UPDATE site_record_conflicts SET alert_id = %s WHERE site = %s AND alert_id IS NULL",
        (alert.id, site),
    )
    found = conn.execute(
        "SELECT count(*) FROM site_record_conflicts WHERE alert_id = %s", (alert.id,)
    ).fetchone()
    assert found is not None
    count = int(found[0])
    message = (
        f"central holds {count} row{'' if count == 1 else 's'} from site {site} apart: their site ids"
        " (vial events, hand-overs, alert changes, audit rows) are ones central already holds with other"
        " content, as when the site's database is restored or replaced and numbers its ids anew. They are"
        " kept, not lost, and not in the site's records. Review them (GET /api/v1/sites gives"
        " record_conflicts; the rows are in site_record_conflicts) against the site's own records, find"
        " out who replaced the site's database, then acknowledge this alert"
        f" (POST /api/v1/fleet/central-alerts/{alert.id}/acknowledge)."
    )
    central_alerts.fire(conn, alert, site, RULE, "warning", float(count), message, received)
