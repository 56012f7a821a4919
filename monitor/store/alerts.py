"""Alerts, their change events, and the state of rules with a hold time.

Every change to an alert (fired, updated, acknowledged, resolved) appends a row to ``alert_events`` whose
AUTOINCREMENT ``seq`` is the one monotonic change sequence; the alert row keeps the seq of its latest
change. SQLite runs one write transaction at a time, so seqs become visible in order and a poller that asks
for ``seq > cursor`` neither misses nor re-reads a change.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from monitor.errors import InvalidRequest, NotFound

AlertState = Literal["firing", "acknowledged", "resolved"]
Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class AlertRecord:
    id: int
    fingerprint: str
    rule: str
    severity: Severity
    state: AlertState
    location_id: int | None
    vial_id: int | None
    sensor_id: int | None
    started_ts: float
    fired_ts: float
    ended_ts: float | None
    value: float | None
    worst_value: float | None
    message: str
    ack_by: str | None
    ack_comment: str | None
    ack_ts: float | None
    seq: int


@dataclass(frozen=True, slots=True)
class AlertEvent:
    seq: int
    alert_id: int
    ts: float
    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class NewAlert:
    fingerprint: str
    rule: str
    severity: Severity
    location_id: int | None
    vial_id: int | None
    sensor_id: int | None
    started_ts: float
    fired_ts: float
    value: float
    message: str


_COLUMNS = (
    "id, fingerprint, rule, severity, state, location_id, vial_id, sensor_id, started_ts, fired_ts, ended_ts,"
    " value, worst_value, message, ack_by, ack_comment, ack_ts, seq"
)


def _alert(row: tuple[object, ...]) -> AlertRecord:
    return AlertRecord(*row)  # type: ignore[arg-type]  # columns listed in field order


def _append_event(conn: sqlite3.Connection, alert_id: int, ts: float, kind: str, detail: str) -> int:
    cur = conn.execute(
        "INSERT INTO alert_events (alert_id, ts, kind, detail) VALUES (?, ?, ?, ?)",
        (alert_id, ts, kind, detail),
    )
    seq = int(cur.lastrowid or 0)
    conn.execute("UPDATE alerts SET seq = ? WHERE id = ?", (seq, alert_id))
    return seq


def open_alerts(conn: sqlite3.Connection) -> dict[str, AlertRecord]:
    """Every alert not yet resolved, by fingerprint."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM alerts WHERE state != 'resolved'").fetchall()
    return {a.fingerprint: a for a in map(_alert, rows)}


def fire(conn: sqlite3.Connection, new: NewAlert) -> int:
    cur = conn.execute(
        "INSERT INTO alerts (fingerprint, rule, severity, state, location_id, vial_id, sensor_id, started_ts,"
        " fired_ts, value, worst_value, message, seq) VALUES (?, ?, ?, 'firing', ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        (
            new.fingerprint,
            new.rule,
            new.severity,
            new.location_id,
            new.vial_id,
            new.sensor_id,
            new.started_ts,
            new.fired_ts,
            new.value,
            new.value,
            new.message,
        ),
    )
    alert_id = int(cur.lastrowid or 0)
    _append_event(conn, alert_id, new.fired_ts, "fired", new.message)
    return alert_id


def update(conn: sqlite3.Connection, alert_id: int, ts: float, worst_value: float, message: str) -> None:
    conn.execute(
        "UPDATE alerts SET worst_value = ?, message = ? WHERE id = ?", (worst_value, message, alert_id)
    )
    _append_event(conn, alert_id, ts, "updated", message)


def resolve(conn: sqlite3.Connection, alert_id: int, ts: float, detail: str) -> None:
    conn.execute("UPDATE alerts SET state = 'resolved', ended_ts = ? WHERE id = ?", (ts, alert_id))
    _append_event(conn, alert_id, ts, "resolved", detail)


def acknowledge(conn: sqlite3.Connection, alert_id: int, by: str, comment: str, ts: float) -> AlertRecord:
    alert = get(conn, alert_id)
    if alert.state == "resolved":
        raise InvalidRequest(f"alert {alert_id} is already resolved; there is nothing to acknowledge")
    conn.execute(
        "UPDATE alerts SET state = 'acknowledged', ack_by = ?, ack_comment = ?, ack_ts = ? WHERE id = ?",
        (by, comment, ts, alert_id),
    )
    _append_event(conn, alert_id, ts, "acknowledged", f"{by}: {comment}")
    return get(conn, alert_id)


def get(conn: sqlite3.Connection, alert_id: int) -> AlertRecord:
    row = conn.execute(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    if row is None:
        raise NotFound(f"no alert with id {alert_id}")
    return _alert(row)


def changed_since(
    conn: sqlite3.Connection,
    cursor: int,
    *,
    state: AlertState | None = None,
    severity: Severity | None = None,
    limit: int = 500,
) -> list[AlertRecord]:
    """Alerts whose latest change is after ``cursor``, oldest change first."""
    sql = f"SELECT {_COLUMNS} FROM alerts WHERE seq > ?"
    args: list[object] = [cursor]
    if state is not None:
        sql += " AND state = ?"
        args.append(state)
    if severity is not None:
        sql += " AND severity = ?"
        args.append(severity)
    sql += " ORDER BY seq LIMIT ?"
    args.append(limit)
    return [_alert(r) for r in conn.execute(sql, args).fetchall()]


def latest_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT MAX(seq) FROM alert_events").fetchone()
    return int(row[0] or 0)


def events(conn: sqlite3.Connection, alert_id: int) -> list[AlertEvent]:
    rows = conn.execute(
        "SELECT seq, alert_id, ts, kind, detail FROM alert_events WHERE alert_id = ? ORDER BY seq",
        (alert_id,),
    ).fetchall()
    return [AlertEvent(*r) for r in rows]


def rule_states(conn: sqlite3.Connection) -> dict[str, float]:
    return {str(f): float(t) for f, t in conn.execute("SELECT fingerprint, condition_since FROM rule_state")}


def set_rule_state(conn: sqlite3.Connection, fingerprint: str, since: float | None) -> None:
    if since is None:
        conn.execute("DELETE FROM rule_state WHERE fingerprint = ?", (fingerprint,))
    else:
        conn.execute(
            "INSERT INTO rule_state (fingerprint, condition_since) VALUES (?, ?)"
            " ON CONFLICT(fingerprint) DO UPDATE SET condition_since = excluded.condition_since",
            (fingerprint, since),
        )
