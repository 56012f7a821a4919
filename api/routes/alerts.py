"""Alerts for REST polling: a change cursor, filters, acknowledgement."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from api.deps import Conn, State
from api.schemas import Acknowledgement, Alert, AlertDetail, AlertEvent, AlertPage, iso
from monitor.store import alerts as alert_store
from monitor.store.database import snapshot, transaction

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


def _names(conn: sqlite3.Connection, table: str) -> dict[int, str]:
    return {int(i): str(k) for i, k in conn.execute(f"SELECT id, key FROM {table}")}


def to_schema(a: alert_store.AlertRecord, conn: sqlite3.Connection) -> Alert:
    locations, vials, sensors = _names(conn, "locations"), _names(conn, "vials"), _names(conn, "sensors")
    return Alert(
        id=a.id,
        fingerprint=a.fingerprint,
        rule=a.rule,
        severity=a.severity,
        state=a.state,
        location=None if a.location_id is None else locations.get(a.location_id),
        vial=None if a.vial_id is None else vials.get(a.vial_id),
        sensor=None if a.sensor_id is None else sensors.get(a.sensor_id),
        started_at=iso(a.started_ts),
        fired_at=iso(a.fired_ts),
        ended_at=iso(a.ended_ts),
        value=a.value,
        worst_value=a.worst_value,
        message=a.message,
        acknowledged_by=a.ack_by,
        acknowledgement_comment=a.ack_comment,
        acknowledged_at=iso(a.ack_ts),
        seq=a.seq,
    )


@router.get("", response_model=AlertPage, responses={304: {"description": "nothing changed since the ETag"}})
def list_alerts(
    conn: Conn,
    request: Request,
    response: Response,
    since: Annotated[int, Query(ge=0, description="cursor from the previous page; 0 for everything")] = 0,
    state: Literal["firing", "acknowledged", "resolved"] | None = None,
    severity: Literal["info", "warning", "critical"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> AlertPage:
    """Alerts changed after ``since``, oldest change first, with the cursor to pass next time.

    Filters narrow the page but never move the cursor past a change they hid from a filtered poller's view
    of its own kind: the cursor is the last change returned, or the newest change when none matched.
    """
    with snapshot(conn):  # the page and the cursor must come from one committed state
        # The page is a function of the query and of the newest change: that pair is its ETag, and a poller
        # that already holds it gets 304 without the rows being read at all.
        etag = _etag(alert_store.latest_seq(conn), request.url.query)
        if etag in _if_none_match(request):
            return Response(status_code=304, headers={"ETag": etag})  # type: ignore[return-value]
        response.headers["ETag"] = etag
        rows = alert_store.changed_since(conn, since, state=state, severity=severity, limit=limit)
        # A full page may have more behind it: resume after its last change. Otherwise every change up to
        # the newest has been seen (or filtered out), so the cursor moves to the newest.
        cursor = rows[-1].seq if len(rows) == limit else max(since, alert_store.latest_seq(conn))
        return AlertPage(alerts=[to_schema(a, conn) for a in rows], cursor=cursor)


def _etag(latest_seq: int, query: str) -> str:
    digest = hashlib.blake2s(query.encode(), digest_size=6).hexdigest()
    return f'W/"{latest_seq}-{digest}"'


def _if_none_match(request: Request) -> set[str]:
    header = request.headers.get("if-none-match", "")
    return {tag.strip() for tag in header.split(",") if tag.strip()}


@router.get("/{alert_id}", response_model=AlertDetail)
def get_alert(alert_id: int, conn: Conn) -> AlertDetail:
    a = alert_store.get(conn, alert_id)
    events = [
        AlertEvent(seq=e.seq, at=iso(e.ts), kind=e.kind, detail=e.detail)
        for e in alert_store.events(conn, alert_id)
    ]
    return AlertDetail(**to_schema(a, conn).model_dump(), events=events)


@router.post("/{alert_id}/ack", response_model=Alert)
def acknowledge(alert_id: int, body: Acknowledgement, conn: Conn, state: State) -> Alert:
    """Acknowledge an alert: who, and a comment saying what was done. Both are required."""
    with transaction(conn):
        a = alert_store.acknowledge(conn, alert_id, body.by.strip(), body.comment.strip(), state.clock.wall())
    return to_schema(a, conn)
