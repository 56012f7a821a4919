"""Alerts, their change events, and the timers of the rules.

Every change to an alert (pending, fired, updated, acknowledged, escalated, withdrawn, resolved) appends a
row to ``alert_events`` whose AUTOINCREMENT ``seq`` is the one monotonic change sequence; the alert row
keeps the seq of its latest change. SQLite runs one write transaction at a time, so seqs become visible in
order and a poller that asks for ``seq > cursor`` neither misses nor re-reads a change.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from monitor.alerts.vocabulary import AlertClass, AlertState, Severity
from monitor.errors import InvalidRequest, NotFound
from monitor.store import audit

__all__ = ["AlertClass", "AlertState", "Severity"]  # the vocabulary, as the store's callers name it


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
    fired_ts: float | None  # None while pending: the excursion has not met its time rule
    ended_ts: float | None
    value: float | None
    worst_value: float | None
    message: str
    ack_by: str | None
    ack_comment: str | None
    ack_ts: float | None
    seq: int
    alert_class: AlertClass
    snapshot: str  # JSON: the rule's parameters and the model constants in force when it fired
    escalated_ts: float | None
    silence_id: int | None


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
    fired_ts: float | None
    value: float
    message: str
    alert_class: AlertClass = "data"
    snapshot: str = "{}"


_COLUMNS = (
    "id, fingerprint, rule, severity, state, location_id, vial_id, sensor_id, started_ts, fired_ts, ended_ts,"
    " value, worst_value, message, ack_by, ack_comment, ack_ts, seq, alert_class, snapshot, escalated_ts,"
    " silence_id"
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


def open_alert(conn: sqlite3.Connection, new: NewAlert) -> int:
    """A new episode: ``pending`` when ``new.fired_ts`` is None (an excursion in progress), else firing."""
    state = "pending" if new.fired_ts is None else "firing"
    cur = conn.execute(
        "INSERT INTO alerts (fingerprint, rule, severity, state, location_id, vial_id, sensor_id, started_ts,"
        " fired_ts, value, worst_value, message, seq, alert_class, snapshot)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
        (
            new.fingerprint,
            new.rule,
            new.severity,
            state,
            new.location_id,
            new.vial_id,
            new.sensor_id,
            new.started_ts,
            new.fired_ts,
            new.value,
            new.value,
            new.message,
            new.alert_class,
            new.snapshot,
        ),
    )
    alert_id = int(cur.lastrowid or 0)
    ts = new.started_ts if new.fired_ts is None else new.fired_ts
    _append_event(conn, alert_id, ts, "fired" if state == "firing" else "pending", new.message)
    return alert_id


def fire(conn: sqlite3.Connection, new: NewAlert) -> int:
    """A new alert that breached at once (no pending stage)."""
    return open_alert(conn, new)


def promote(
    conn: sqlite3.Connection, alert_id: int, ts: float, value: float, message: str, snapshot: str
) -> None:
    """A pending alert whose time rule is now met: it fires, keeping its id and start."""
    conn.execute(
        "UPDATE alerts SET state = 'firing', fired_ts = ?, value = ?, worst_value = ?, message = ?,"
        " snapshot = ? WHERE id = ? AND state = 'pending'",
        (ts, value, value, message, snapshot, alert_id),
    )
    _append_event(conn, alert_id, ts, "fired", message)


def update(conn: sqlite3.Connection, alert_id: int, ts: float, worst_value: float, message: str) -> None:
    conn.execute(
        "UPDATE alerts SET worst_value = ?, message = ? WHERE id = ?", (worst_value, message, alert_id)
    )
    _append_event(conn, alert_id, ts, "updated", message)


def resolve(
    conn: sqlite3.Connection, alert_id: int, ts: float, detail: str, ended_ts: float | None = None
) -> None:
    """Resolve at ``ts``; ``ended_ts`` is when the condition ended (before ``ts`` by the clear delay)."""
    conn.execute(
        "UPDATE alerts SET state = 'resolved', ended_ts = ? WHERE id = ?",
        (ts if ended_ts is None else ended_ts, alert_id),
    )
    _append_event(conn, alert_id, ts, "resolved", detail)


def withdraw(conn: sqlite3.Connection, alert_id: int, ts: float, detail: str) -> None:
    """A pending alert whose excursion ended before its time rule was met: resolved with no breach."""
    conn.execute("UPDATE alerts SET state = 'resolved', ended_ts = ? WHERE id = ?", (ts, alert_id))
    _append_event(conn, alert_id, ts, "withdrawn", detail)


def escalate(conn: sqlite3.Connection, alert_id: int, ts: float, severity: Severity, detail: str) -> None:
    conn.execute("UPDATE alerts SET severity = ?, escalated_ts = ? WHERE id = ?", (severity, ts, alert_id))
    _append_event(conn, alert_id, ts, "escalated", detail)


def set_silence(conn: sqlite3.Connection, alert_id: int, silence_id: int | None, ts: float) -> None:
    """Flag an alert as covered by a silence (or by none any more): still recorded, still polled."""
    conn.execute("UPDATE alerts SET silence_id = ? WHERE id = ?", (silence_id, alert_id))
    if silence_id is None:
        _append_event(conn, alert_id, ts, "unsilenced", "no silence covers it any more")
    else:
        _append_event(conn, alert_id, ts, "silenced", f"covered by silence {silence_id}")


def acknowledge(conn: sqlite3.Connection, alert_id: int, by: str, comment: str, ts: float) -> AlertRecord:
    alert = get(conn, alert_id)
    if alert.state == "resolved":
        raise InvalidRequest(f"alert {alert_id} is already resolved; there is nothing to acknowledge")
    if alert.state == "pending":
        raise InvalidRequest(
            f"alert {alert_id} is pending: an excursion in progress that has not breached its rule yet"
        )
    # The first acknowledgement stays on the alert (who took it on, and when); each later one is kept as an
    # event beside it, never written over it.
    conn.execute(
        "UPDATE alerts SET state = 'acknowledged', ack_by = coalesce(ack_by, ?),"
        " ack_comment = coalesce(ack_comment, ?), ack_ts = coalesce(ack_ts, ?) WHERE id = ?",
        (by, comment, ts, alert_id),
    )
    _append_event(conn, alert_id, ts, "acknowledged", f"{by}: {comment}")
    return get(conn, alert_id)


def acknowledge_audited(
    conn: sqlite3.Connection,
    alert_id: int,
    by: str,
    comment: str,
    ts: float,
    actor: str,
    command: str | None = None,
) -> AlertRecord:
    """:func:`acknowledge`, with its audit row (``alert.acknowledged`` by ``actor``) in the caller's
    transaction: the API and a command from the fleet's central record it alike (``command`` names
    central's command in the row)."""
    a = acknowledge(conn, alert_id, by, comment, ts)
    detail: dict[str, object] = {"by": by, "comment": comment, "fingerprint": a.fingerprint}
    if command is not None:
        detail["command"] = command
    audit.append(conn, ts, actor, "alert.acknowledged", f"alert:{alert_id}", detail)
    return a


def get(conn: sqlite3.Connection, alert_id: int) -> AlertRecord:
    row = conn.execute(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    if row is None:
        raise NotFound(f"no alert with id {alert_id}")
    return _alert(row)


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Narrows a page of alerts; None matches everything."""

    state: AlertState | None = None
    severity: Severity | None = None
    rule: str | None = None
    alert_class: AlertClass | None = None
    location_id: int | None = None
    vial_id: int | None = None
    sensor_id: int | None = None

    def where(self) -> tuple[str, list[object]]:
        sql, args = "", list[object]()
        for column, value in (
            ("state", self.state),
            ("severity", self.severity),
            ("rule", self.rule),
            ("alert_class", self.alert_class),
            ("location_id", self.location_id),
            ("vial_id", self.vial_id),
            ("sensor_id", self.sensor_id),
        ):
            if value is not None:
                sql += f" AND {column} = ?"
                args.append(value)
        return sql, args


def changed_since(
    conn: sqlite3.Connection,
    cursor: int,
    *,
    state: AlertState | None = None,
    severity: Severity | None = None,
    limit: int = 500,
    where: AlertFilter | None = None,
) -> list[AlertRecord]:
    """Alerts whose latest change is after ``cursor``, oldest change first."""
    flt = where if where is not None else AlertFilter(state=state, severity=severity)
    extra, args = flt.where()
    sql = f"SELECT {_COLUMNS} FROM alerts WHERE seq > ?{extra} ORDER BY seq LIMIT ?"
    return [_alert(r) for r in conn.execute(sql, [cursor, *args, limit]).fetchall()]


def purge_resolved(conn: sqlite3.Connection, ended_before_ts: float) -> int:
    """Delete alerts resolved before ``ended_before_ts`` with their events; returns how many went."""
    ids = [
        int(r[0])
        for r in conn.execute(
            "SELECT id FROM alerts WHERE state = 'resolved' AND ended_ts < ?", (ended_before_ts,)
        )
    ]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        conn.execute(f"DELETE FROM alert_events WHERE alert_id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM alerts WHERE id IN ({marks})", chunk)
    return len(ids)


def latest_seq(conn: sqlite3.Connection) -> int:
    """The newest change's seq. Read from AUTOINCREMENT's counter, which purging old alerts never lowers."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'alert_events'").fetchone()
    return 0 if row is None else int(row[0])


def events(conn: sqlite3.Connection, alert_id: int) -> list[AlertEvent]:
    rows = conn.execute(
        "SELECT seq, alert_id, ts, kind, detail FROM alert_events WHERE alert_id = ? ORDER BY seq",
        (alert_id,),
    ).fetchall()
    return [AlertEvent(*r) for r in rows]


def rule_timers(conn: sqlite3.Connection) -> dict[str, str]:
    """Each rule timer's persisted state (JSON, see :class:`monitor.alerts.lifecycle.RuleState`)."""
    return {str(f): str(t) for f, t in conn.execute("SELECT fingerprint, timer FROM rule_timers")}


def set_rule_timer(conn: sqlite3.Connection, fingerprint: str, timer: str | None) -> None:
    if timer is None:
        conn.execute("DELETE FROM rule_timers WHERE fingerprint = ?", (fingerprint,))
    else:
        conn.execute(
            "INSERT INTO rule_timers (fingerprint, timer) VALUES (?, ?)"
            " ON CONFLICT(fingerprint) DO UPDATE SET timer = excluded.timer",
            (fingerprint, timer),
        )


def counts(conn: sqlite3.Connection) -> dict[tuple[AlertState, Severity], int]:
    """How many alerts are kept, by state and severity (a pair with none is absent)."""
    rows = conn.execute("SELECT state, severity, COUNT(*) FROM alerts GROUP BY state, severity")
    return {(st, sv): int(n) for st, sv, n in rows}
