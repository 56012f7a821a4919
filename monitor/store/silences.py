"""Silences in the store, and flagging the open alerts they cover.

Flagging is a change like any other: an alert a silence starts or stops covering gets a ``silenced`` or
``unsilenced`` event and a new seq, so pollers and webhooks learn of it. :func:`reconcile` runs in the
transaction that creates or expires a silence (the API) and in every batch (the engine), which catches a
silence's start and end times passing and alerts opened under one.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from monitor.errors import InvalidRequest, NotFound
from monitor.silences import Silence, check_matchers, covering
from monitor.store import alerts, audit


@dataclass(frozen=True, slots=True)
class SilenceRecord:
    id: int
    matchers: dict[str, str]
    starts_ts: float
    ends_ts: float
    created_by: str
    comment: str
    created_ts: float
    expired_by: str | None
    expired_ts: float | None

    def silence(self) -> Silence:
        return Silence(self.id, self.matchers, self.starts_ts, self.ends_ts)


_COLUMNS = "id, matchers, starts_ts, ends_ts, created_by, comment, created_ts, expired_by, expired_ts"


def _record(row: tuple[object, ...]) -> SilenceRecord:
    values = list(row)
    values[1] = json.loads(str(values[1]))
    return SilenceRecord(*values)  # type: ignore[arg-type]  # columns listed in field order


def create(
    conn: sqlite3.Connection,
    matchers: dict[str, str],
    starts_ts: float,
    ends_ts: float,
    created_by: str,
    comment: str,
    now: float,
) -> SilenceRecord:
    try:
        check_matchers(matchers)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    if ends_ts <= starts_ts:
        raise InvalidRequest("a silence must end after it starts")
    if ends_ts <= now:
        raise InvalidRequest("a silence must end in the future")
    cur = conn.execute(
        "INSERT INTO silences (matchers, starts_ts, ends_ts, created_by, comment, created_ts)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (json.dumps(matchers, sort_keys=True), starts_ts, ends_ts, created_by, comment, now),
    )
    silence_id = int(cur.lastrowid or 0)
    reconcile(conn, now)
    return get(conn, silence_id)


def create_audited(
    conn: sqlite3.Connection,
    matchers: dict[str, str],
    starts_ts: float,
    ends_ts: float,
    created_by: str,
    comment: str,
    now: float,
    actor: str,
    command: str | None = None,
) -> SilenceRecord:
    """:func:`create`, with its audit row (``silence.created`` by ``actor``) in the caller's transaction:
    the API and a command from the fleet's central record it alike (``command`` names central's command)."""
    record = create(conn, matchers, starts_ts, ends_ts, created_by, comment, now)
    detail: dict[str, object] = {
        "matchers": record.matchers,
        "starts_ts": record.starts_ts,
        "ends_ts": record.ends_ts,
        "created_by": record.created_by,
        "comment": record.comment,
    }
    if command is not None:
        detail["command"] = command
    audit.append(conn, now, actor, "silence.created", f"silence:{record.id}", detail)
    return record


def get(conn: sqlite3.Connection, silence_id: int) -> SilenceRecord:
    row = conn.execute(f"SELECT {_COLUMNS} FROM silences WHERE id = ?", (silence_id,)).fetchone()
    if row is None:
        raise NotFound(f"no silence with id {silence_id}")
    return _record(row)


def list_all(conn: sqlite3.Connection, *, active_at: float | None = None) -> list[SilenceRecord]:
    """Every silence, newest first; with ``active_at``, only those active then."""
    if active_at is None:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM silences ORDER BY id DESC").fetchall()
    else:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM silences WHERE starts_ts <= ? AND ends_ts > ? ORDER BY id DESC",
            (active_at, active_at),
        ).fetchall()
    return [_record(r) for r in rows]


def expire(conn: sqlite3.Connection, silence_id: int, by: str, now: float) -> SilenceRecord:
    """End a silence now (one not started yet never starts); the alerts it covered are flagged again."""
    current = get(conn, silence_id)
    if current.ends_ts <= now:
        raise InvalidRequest(f"silence {silence_id} has already ended")
    conn.execute(
        "UPDATE silences SET ends_ts = MAX(?, starts_ts), expired_by = ?, expired_ts = ? WHERE id = ?",
        (now, by, now, silence_id),
    )
    reconcile(conn, now)
    return get(conn, silence_id)


def expire_audited(
    conn: sqlite3.Connection, silence_id: int, by: str, now: float, actor: str, command: str | None = None
) -> SilenceRecord:
    """:func:`expire`, with its audit row (``silence.expired`` by ``actor``) in the caller's transaction."""
    record = expire(conn, silence_id, by, now)
    detail: dict[str, object] = {"by": record.expired_by}
    if command is not None:
        detail["command"] = command
    audit.append(conn, now, actor, "silence.expired", f"silence:{silence_id}", detail)
    return record


def _keys(conn: sqlite3.Connection, table: str) -> dict[int, str]:
    return {int(i): str(k) for i, k in conn.execute(f"SELECT id, key FROM {table}")}


def labels(conn: sqlite3.Connection, a: alerts.AlertRecord) -> dict[str, str | None]:
    """The labels silences match on, for one alert."""
    return label_set(a, _keys(conn, "locations"), _keys(conn, "vials"), _keys(conn, "sensors"))


def label_set(
    a: alerts.AlertRecord, locations: dict[int, str], vials: dict[int, str], sensors: dict[int, str]
) -> dict[str, str | None]:
    return {
        "rule": a.rule,
        "severity": a.severity,
        "alert_class": a.alert_class,
        "location": None if a.location_id is None else locations.get(a.location_id),
        "vial": None if a.vial_id is None else vials.get(a.vial_id),
        "sensor": None if a.sensor_id is None else sensors.get(a.sensor_id),
        "fingerprint": a.fingerprint,
    }


def reconcile(conn: sqlite3.Connection, now: float) -> int:
    """Flag every open alert with the silence covering it now (or none); returns how many changed."""
    active = [r.silence() for r in list_all(conn, active_at=now)]
    open_now = alerts.open_alerts(conn).values()
    if not active and all(a.silence_id is None for a in open_now):
        return 0
    locations, vials, sensors = _keys(conn, "locations"), _keys(conn, "vials"), _keys(conn, "sensors")
    changed = 0
    for a in open_now:
        silence_id = covering(active, label_set(a, locations, vials, sensors), now)
        if silence_id != a.silence_id:
            alerts.set_silence(conn, a.id, silence_id, now)
            changed += 1
    return changed
