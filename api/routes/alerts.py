"""Alerts for REST polling: a change cursor, filters, acknowledgement."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import CallerDep
from api.conditional import if_none_match
from api.deps import AppState, Conn, State
from api.params import SINCE_MAX, RowId
from api.schemas import Acknowledgement, Alert, AlertDetail, AlertEvent, AlertPage, iso
from monitor.errors import NotFound
from monitor.store import alerts as alert_store
from monitor.store import audit as audit_store
from monitor.store import sites
from monitor.store import vials as vial_store
from monitor.store.alerts import AlertClass, AlertState, Severity
from monitor.store.database import snapshot, transaction

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@dataclass(frozen=True, slots=True)
class Names:
    """The keys alerts are shown with, read once per response (not once per alert: a 500-alert page read
    the three tables 1,500 times)."""

    locations: dict[int, str]
    vials: dict[int, str]
    sensors: dict[int, str]

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> Names:
        def keys(table: str) -> dict[int, str]:
            return {int(i): str(k) for i, k in conn.execute(f"SELECT id, key FROM {table}")}

        return cls(keys("locations"), keys("vials"), keys("sensors"))


def to_schema(a: alert_store.AlertRecord, names: Names) -> Alert:
    locations, vials, sensors = names.locations, names.vials, names.sensors
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
        silenced=a.silence_id is not None,
        silence_id=a.silence_id,
        seq=a.seq,
    )


MAX_WAIT_SECONDS = 60.0

AlertStateParam = AlertState


@router.get("", response_model=AlertPage, responses={304: {"description": "nothing changed since the ETag"}})
async def list_alerts(
    state_: State,
    request: Request,
    since: Annotated[
        int, Query(ge=0, le=SINCE_MAX, description="cursor from the previous page; 0 for everything")
    ] = 0,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=MAX_WAIT_SECONDS,
            description="long-poll: when nothing changed after `since`, wait up to this many seconds for a"
            " change before answering with an empty page (or 304 with If-None-Match)",
        ),
    ] = 0.0,
    state: AlertStateParam | None = None,
    severity: Severity | None = None,
    rule: Annotated[str | None, Query(max_length=100)] = None,
    alert_class: AlertClass | None = None,
    location: Annotated[str | None, Query(max_length=100, description="location key")] = None,
    vial: Annotated[str | None, Query(max_length=100, description="vial key")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> Response:
    """Alerts changed after ``since``, oldest change first, with the cursor to pass next time.

    Filters narrow the page but never move the cursor past a change they hid from a filtered poller's view
    of its own kind: the cursor is the last change returned, or the newest change when none matched.
    """
    # The page is a function of the query and of the newest change: that pair is its ETag. A poll without
    # ``wait`` that holds the current one was answered 304 by api.conditional before it got here.
    query = request.scope.get("query_string", b"")
    held = if_none_match(request.headers.get("if-none-match", ""))
    # No connection is held across the wait: each look at the store checks one out and returns it.
    where = await run_in_threadpool(_filter, state_, state, severity, rule, alert_class, location, vial)
    page, etag, latest = await run_in_threadpool(_page, state_, query, since, where, limit)
    if wait > 0:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        # Nothing new for this poller: an empty page, or the very page its ETag names. Any alert change
        # wakes the waiters; one this filter hides sends them back to wait.
        while (not page.alerts or etag in held) and (remaining := deadline - loop.time()) > 0:
            if not await state_.watcher.wait_beyond(latest, remaining):
                break
            page, etag, latest = await run_in_threadpool(_page, state_, query, since, where, limit)
    if etag in held:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(page.model_dump_json(), media_type="application/json", headers={"ETag": etag})


def _filter(
    app: AppState,
    state: AlertState | None,
    severity: Severity | None,
    rule: str | None,
    alert_class: AlertClass | None,
    location: str | None,
    vial: str | None,
) -> alert_store.AlertFilter:
    vial_id = location_id = None
    if vial is not None or location is not None:
        with app.checkout() as conn:
            if vial is not None:
                record = vial_store.by_key(conn, vial)
                if record is None:
                    raise NotFound(f"no vial with key {vial!r}")
                vial_id = record.id
            if location is not None:
                location_id = sites.location_by_key(conn, location).id
    return alert_store.AlertFilter(
        state=state,
        severity=severity,
        rule=rule,
        alert_class=alert_class,
        location_id=location_id,
        vial_id=vial_id,
    )


def _page(
    app: AppState, query: bytes, since: int, where: alert_store.AlertFilter, limit: int
) -> tuple[AlertPage, str, int]:
    """The page, its ETag and the newest change, all from one committed state."""
    with app.checkout() as conn, snapshot(conn):
        latest = alert_store.latest_seq(conn)
        rows = alert_store.changed_since(conn, since, where=where, limit=limit)
        # A full page may have more behind it: resume after its last change. Otherwise every change up to
        # the newest has been seen (or filtered out), so the cursor moves to the newest.
        more = len(rows) == limit
        cursor = rows[-1].seq if more else max(since, latest)
        names = Names.load(conn)
        page = AlertPage(alerts=[to_schema(a, names) for a in rows], cursor=cursor, has_more=more)
        return page, _etag(latest, query), latest


def list_etag(conn: sqlite3.Connection, query: bytes) -> str:
    """The ETag of the alert list for this query string, as it stands now."""
    return _etag(alert_store.latest_seq(conn), query)


def _etag(latest_seq: int, query: bytes) -> str:
    digest = hashlib.blake2s(query, digest_size=6).hexdigest()
    return f'W/"{latest_seq}-{digest}"'


@router.get("/{alert_id}", response_model=AlertDetail)
def get_alert(alert_id: RowId, conn: Conn) -> AlertDetail:
    a = alert_store.get(conn, alert_id)
    events = [
        AlertEvent(seq=e.seq, at=iso(e.ts), kind=e.kind, detail=e.detail)
        for e in alert_store.events(conn, alert_id)
    ]
    return AlertDetail(
        **to_schema(a, Names.load(conn)).model_dump(), events=events, snapshot=json.loads(a.snapshot)
    )


@router.post("/{alert_id}/ack", response_model=Alert)
def acknowledge(alert_id: RowId, body: Acknowledgement, conn: Conn, state: State, who: CallerDep) -> Alert:
    """Acknowledge an alert: who, and a comment saying what was done. Both are required (a write token)."""
    now = state.clock.wall()
    by, comment = body.by.strip(), body.comment.strip()
    with transaction(conn):
        a = alert_store.acknowledge(conn, alert_id, by, comment, now)
        detail = {"by": by, "comment": comment, "fingerprint": a.fingerprint}
        audit_store.append(conn, now, who.actor, "alert.acknowledged", f"alert:{alert_id}", detail)
    return to_schema(a, Names.load(conn))
