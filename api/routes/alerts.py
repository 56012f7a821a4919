"""Alerts for REST polling: a change cursor, filters, acknowledgement."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Conn, State
from api.schemas import Acknowledgement, Alert, AlertDetail, AlertEvent, AlertPage, iso
from monitor.store import alerts as alert_store
from monitor.store.alerts import AlertState, Severity
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
        alert_class=a.alert_class,
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
        escalated_at=iso(a.escalated_ts),
        seq=a.seq,
    )


@router.get("", response_model=AlertPage, responses={304: {"description": "nothing changed since the ETag"}})
async def list_alerts(
    conn: Conn,
    request: Request,
    since: Annotated[int, Query(ge=0, description="cursor from the previous page; 0 for everything")] = 0,
    state: Literal["pending", "firing", "acknowledged", "resolved"] | None = None,
    severity: Literal["info", "warning", "critical"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> Response:
    """Alerts changed after ``since``, oldest change first, with the cursor to pass next time.

    Filters narrow the page but never move the cursor past a change they hid from a filtered poller's view
    of its own kind: the cursor is the last change returned, or the newest change when none matched.
    """
    # The page is a function of the query and of the newest change: that pair is its ETag. A poll that
    # holds the current one was answered 304 by api.conditional before it got here.
    query = request.scope.get("query_string", b"")
    page, etag = await run_in_threadpool(_page, conn, query, since, state, severity, limit)
    return Response(page.model_dump_json(), media_type="application/json", headers={"ETag": etag})


def _page(
    conn: sqlite3.Connection,
    query: bytes,
    since: int,
    state: AlertState | None,
    severity: Severity | None,
    limit: int,
) -> tuple[AlertPage, str]:
    with snapshot(conn):  # the page, its cursor and its ETag must come from one committed state
        latest = alert_store.latest_seq(conn)
        rows = alert_store.changed_since(conn, since, state=state, severity=severity, limit=limit)
        # A full page may have more behind it: resume after its last change. Otherwise every change up to
        # the newest has been seen (or filtered out), so the cursor moves to the newest.
        cursor = rows[-1].seq if len(rows) == limit else max(since, latest)
        return AlertPage(alerts=[to_schema(a, conn) for a in rows], cursor=cursor), _etag(latest, query)


def list_etag(conn: sqlite3.Connection, query: bytes) -> str:
    """The ETag of the alert list for this query string, as it stands now."""
    return _etag(alert_store.latest_seq(conn), query)


def _etag(latest_seq: int, query: bytes) -> str:
    digest = hashlib.blake2s(query, digest_size=6).hexdigest()
    return f'W/"{latest_seq}-{digest}"'


@router.get("/{alert_id}", response_model=AlertDetail)
def get_alert(alert_id: int, conn: Conn) -> AlertDetail:
    a = alert_store.get(conn, alert_id)
    events = [
        AlertEvent(seq=e.seq, at=iso(e.ts), kind=e.kind, detail=e.detail)
        for e in alert_store.events(conn, alert_id)
    ]
    return AlertDetail(**to_schema(a, conn).model_dump(), events=events, snapshot=json.loads(a.snapshot))


@router.post("/{alert_id}/ack", response_model=Alert)
def acknowledge(alert_id: int, body: Acknowledgement, conn: Conn, state: State) -> Alert:
    """Acknowledge an alert: who, and a comment saying what was done. Both are required."""
    with transaction(conn):
        a = alert_store.acknowledge(conn, alert_id, body.by.strip(), body.comment.strip(), state.clock.wall())
    return to_schema(a, conn)
