"""Alerts for REST polling: a change cursor, filters, acknowledgement."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import CallerDep
from api.conditional import if_none_match
from api.deps import AppState, State, StoreDep
from api.params import SINCE_MAX, RowId
from api.schemas import (
    ALERT_PAGE_JSON,
    Acknowledgement,
    Alert,
    AlertDetail,
    AlertEvent,
    AlertFields,
    AlertPage,
    AlertPageFields,
    iso,
)
from monitor.alerts.vocabulary import AlertClass, AlertState, Severity
from monitor.errors import NotFound
from monitor.store.ports import AlertFilter, AlertRecord, KeyNames, Store
from monitor.timestamps import iso_utc

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


def to_fields(a: AlertRecord, names: KeyNames) -> AlertFields:
    """The alert as the API shows it, as plain data; ``names`` read once per response
    (:meth:`Store.key_names`). A page calls this per alert: times absent are tested here, not in a call."""
    started = iso_utc(a.started_ts)
    fired_ts = a.fired_ts
    return {
        "id": a.id,
        "fingerprint": a.fingerprint,
        "rule": a.rule,
        "severity": a.severity,
        "state": a.state,
        "alert_class": a.alert_class,
        "location": None if a.location_id is None else names.locations.get(a.location_id),
        "vial": None if a.vial_id is None else names.vials.get(a.vial_id),
        "sensor": None if a.sensor_id is None else names.sensors.get(a.sensor_id),
        "started_at": started,
        # An alert that breached at once fired when it started: one time, formatted once.
        "fired_at": started if fired_ts == a.started_ts else None if fired_ts is None else iso_utc(fired_ts),
        "ended_at": None if a.ended_ts is None else iso_utc(a.ended_ts),
        "value": a.value,
        "worst_value": a.worst_value,
        "message": a.message,
        "acknowledged_by": a.ack_by,
        "acknowledgement_comment": a.ack_comment,
        "acknowledged_at": None if a.ack_ts is None else iso_utc(a.ack_ts),
        "escalated_at": None if a.escalated_ts is None else iso_utc(a.escalated_ts),
        "silenced": a.silence_id is not None,
        "silence_id": a.silence_id,
        "seq": a.seq,
    }


def to_schema(a: AlertRecord, names: KeyNames) -> Alert:
    """The alert as the API shows it, validated as one :class:`Alert`."""
    return Alert(**to_fields(a, names))


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
    flt = _Filters(state, severity, rule, alert_class, location, vial)
    where, page = await run_in_threadpool(_first_page, state_, flt, query, since, limit)
    if wait > 0:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        # Nothing new for this poller: an empty page, or the very page its ETag names. Any alert change
        # wakes the waiters; one this filter hides sends them back to wait.
        while (page.empty or page.etag in held) and (remaining := deadline - loop.time()) > 0:
            if not await state_.watcher.wait_beyond(page.latest, remaining):
                break
            page = await run_in_threadpool(_page, state_, query, since, where, limit)
    if page.etag in held:
        return Response(status_code=304, headers={"ETag": page.etag})
    return Response(page.body, media_type="application/json", headers={"ETag": page.etag})


@dataclass(frozen=True, slots=True)
class _Filters:
    """The page's filters as the query gives them: keys, not yet ids."""

    state: AlertState | None
    severity: Severity | None
    rule: str | None
    alert_class: AlertClass | None
    location: str | None
    vial: str | None


@dataclass(frozen=True, slots=True)
class _Page:
    """A page rendered: its JSON, whether it holds no alert, its ETag, and the newest change it saw."""

    body: bytes
    empty: bool
    etag: str
    latest: int


def _first_page(
    app: AppState, flt: _Filters, query: bytes, since: int, limit: int
) -> tuple[AlertFilter, _Page]:
    """The filter by ids and its first page: one trip to the thread pool for both."""
    where = _filter(app, flt)
    return where, _page(app, query, since, where, limit)


def _filter(app: AppState, flt: _Filters) -> AlertFilter:
    """The filters with their keys read as ids; :class:`NotFound` for a key that names nothing."""
    vial_id = location_id = None
    if flt.vial is not None or flt.location is not None:
        with app.session() as store:
            if flt.vial is not None:
                record = store.vial_by_key(flt.vial)
                if record is None:
                    raise NotFound(f"no vial with key {flt.vial!r}")
                vial_id = record.id
            if flt.location is not None:
                location_id = store.location(flt.location).id
    return AlertFilter(
        state=flt.state,
        severity=flt.severity,
        rule=flt.rule,
        alert_class=flt.alert_class,
        location_id=location_id,
        vial_id=vial_id,
    )


def _page(app: AppState, query: bytes, since: int, where: AlertFilter, limit: int) -> _Page:
    """The page, its ETag and the newest change, all from one committed state."""
    with app.session() as store, store.snapshot():
        latest = store.latest_alert_seq()
        rows = store.alerts_changed_since(since, where, limit)
        names = store.key_names()
    # A full page may have more behind it: resume after its last change. Otherwise every change up to
    # the newest has been seen (or filtered out), so the cursor moves to the newest.
    more = len(rows) == limit
    cursor = rows[-1].seq if more else max(since, latest)
    return _Page(page_json(rows, names, cursor, more), not rows, _etag(latest, query), latest)


def page_json(rows: Sequence[AlertRecord], names: KeyNames, cursor: int, has_more: bool) -> bytes:
    """The bytes of the :class:`AlertPage` of ``rows``, serialised from plain data: the records are typed
    by the store, so no :class:`Alert` is built and validated per row."""
    page: AlertPageFields = {
        "alerts": [to_fields(a, names) for a in rows],
        "cursor": cursor,
        "has_more": has_more,
    }
    return ALERT_PAGE_JSON.dump_json(page)


def list_etag(store: Store, query: bytes) -> str:
    """The ETag of the alert list for this query string, as it stands now."""
    return _etag(store.latest_alert_seq(), query)


def _etag(latest_seq: int, query: bytes) -> str:
    digest = hashlib.blake2s(query, digest_size=6).hexdigest()
    return f'W/"{latest_seq}-{digest}"'


@router.get("/{alert_id}", response_model=AlertDetail)
def get_alert(alert_id: RowId, store: StoreDep) -> AlertDetail:
    a = store.alert(alert_id)
    events = [
        AlertEvent(seq=e.seq, at=iso(e.ts), kind=e.kind, detail=e.detail)
        for e in store.alert_events(alert_id)
    ]
    return AlertDetail(**to_fields(a, store.key_names()), events=events, snapshot=json.loads(a.snapshot))


@router.post("/{alert_id}/ack", response_model=Alert)
def acknowledge(
    alert_id: RowId, body: Acknowledgement, store: StoreDep, state: State, who: CallerDep
) -> Alert:
    """Acknowledge an alert: who, and a comment saying what was done. Both are required (a write token)."""
    now = state.clock.wall()
    by, comment = body.by.strip(), body.comment.strip()
    with store.transaction():
        a = store.acknowledge_alert(alert_id, by, comment, now, who.actor)
    return to_schema(a, store.key_names())
