"""Vials and their lifecycle events (registered, moved, packaging changed, reconstituted, administered,
discarded, handed over to another site, received from one), each at its true time."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal, get_args

from monitor.errors import InvalidRequest, NotFound

# 'handed-over': gone to another site (monitor/handover.py), its history kept; received back, active again.
VialStatus = Literal["active", "administered", "discarded", "handed-over"]
EventKind = Literal[
    "registered",
    "moved",
    "packaging-changed",
    "reconstituted",
    "administered",
    "discarded",
    "handed-over",
    "received",
]
VIAL_STATUSES: tuple[VialStatus, ...] = get_args(VialStatus)
EVENT_KINDS: tuple[EventKind, ...] = (
    "registered",
    "moved",
    "packaging-changed",
    "reconstituted",
    "administered",
    "discarded",
    "handed-over",
    "received",
)
END_KINDS: tuple[EventKind, ...] = ("administered", "discarded")
# The status each of these kinds leaves the vial in.
STATUS_AFTER: dict[EventKind, VialStatus] = {
    "administered": "administered",
    "discarded": "discarded",
    "handed-over": "handed-over",
    "received": "active",
}


@dataclass(frozen=True, slots=True)
class VialRecord:
    id: int
    key: str
    drug: str
    form: str
    lot: str
    expiry: str | None
    initial_potency_percent: float
    registered_ts: float
    status: VialStatus


@dataclass(frozen=True, slots=True)
class VialEvent:
    """A change in a vial's life at its true time ``ts``; ``location_id``/``packaging`` hold after it."""

    id: int
    vial_id: int
    ts: float
    kind: EventKind
    location_id: int | None
    packaging: str | None
    detail: str
    recorded_ts: float


_VIAL_COLUMNS = "id, key, drug, form, lot, expiry, initial_potency_percent, registered_ts, status"
_EVENT_COLUMNS = "id, vial_id, ts, kind, location_id, packaging, detail, recorded_ts"


def insert(
    conn: sqlite3.Connection,
    *,
    key: str,
    drug: str,
    form: str,
    lot: str,
    expiry: str | None,
    initial_potency_percent: float,
    registered_ts: float,
) -> int:
    """The vial's row alone, without its first event: the caller records it (registered, received)."""
    cur = conn.execute(
        "INSERT INTO vials (key, drug, form, lot, expiry, initial_potency_percent, registered_ts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (key, drug, form, lot, expiry, initial_potency_percent, registered_ts),
    )
    return int(cur.lastrowid or 0)


def register(
    conn: sqlite3.Connection,
    *,
    key: str,
    drug: str,
    form: str,
    lot: str,
    expiry: str | None,
    initial_potency_percent: float,
    location_id: int,
    packaging: str,
    ts: float,
    recorded_ts: float,
) -> int:
    if conn.execute("SELECT 1 FROM vials WHERE key = ?", (key,)).fetchone() is not None:
        raise InvalidRequest(f"a vial with key {key!r} is already registered")
    vial_id = insert(
        conn,
        key=key,
        drug=drug,
        form=form,
        lot=lot,
        expiry=expiry,
        initial_potency_percent=initial_potency_percent,
        registered_ts=ts,
    )
    add_event(
        conn,
        vial_id=vial_id,
        ts=ts,
        kind="registered",
        location_id=location_id,
        packaging=packaging,
        detail="",
        recorded_ts=recorded_ts,
    )
    return vial_id


def add_event(
    conn: sqlite3.Connection,
    *,
    vial_id: int,
    ts: float,
    kind: EventKind,
    location_id: int | None,
    packaging: str | None,
    detail: str,
    recorded_ts: float,
) -> int:
    cur = conn.execute(
        "INSERT INTO vial_events (vial_id, ts, kind, location_id, packaging, detail, recorded_ts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (vial_id, ts, kind, location_id, packaging, detail, recorded_ts),
    )
    if kind in STATUS_AFTER:
        conn.execute("UPDATE vials SET status = ? WHERE id = ?", (STATUS_AFTER[kind], vial_id))
    return int(cur.lastrowid or 0)


def change_stamp(conn: sqlite3.Connection) -> tuple[int, int]:
    """The newest vial and vial event ids: it moves whenever a vial is registered or an event recorded."""
    row = conn.execute("SELECT (SELECT MAX(id) FROM vials), (SELECT MAX(id) FROM vial_events)").fetchone()
    return int(row[0] or 0), int(row[1] or 0)


def _vial(row: tuple[object, ...]) -> VialRecord:
    return VialRecord(*row)  # type: ignore[arg-type]  # columns listed in field order


def get(conn: sqlite3.Connection, vial_id: int) -> VialRecord:
    row = conn.execute(f"SELECT {_VIAL_COLUMNS} FROM vials WHERE id = ?", (vial_id,)).fetchone()
    if row is None:
        raise NotFound(f"no vial with id {vial_id}")
    return _vial(row)


def by_key(conn: sqlite3.Connection, key: str) -> VialRecord | None:
    row = conn.execute(f"SELECT {_VIAL_COLUMNS} FROM vials WHERE key = ?", (key,)).fetchone()
    return None if row is None else _vial(row)


def list_all(conn: sqlite3.Connection, *, active_only: bool = False) -> list[VialRecord]:
    where = " WHERE status = 'active'" if active_only else ""
    return [_vial(r) for r in conn.execute(f"SELECT {_VIAL_COLUMNS} FROM vials{where} ORDER BY id")]


def events(conn: sqlite3.Connection, vial_id: int) -> list[VialEvent]:
    rows = conn.execute(
        f"SELECT {_EVENT_COLUMNS} FROM vial_events WHERE vial_id = ? ORDER BY ts, id", (vial_id,)
    ).fetchall()
    return [VialEvent(*r) for r in rows]


def active_location_ids(conn: sqlite3.Connection) -> set[int]:
    """Locations currently holding at least one active vial (by each vial's latest located event)."""
    rows = conn.execute(
        "SELECT e.location_id FROM vial_events e JOIN vials v ON v.id = e.vial_id"
        " WHERE v.status = 'active' AND e.location_id IS NOT NULL AND e.id = ("
        "   SELECT e2.id FROM vial_events e2 WHERE e2.vial_id = e.vial_id AND e2.location_id IS NOT NULL"
        "   ORDER BY e2.ts DESC, e2.id DESC LIMIT 1)"
    ).fetchall()
    return {int(r[0]) for r in rows}
