"""Hand-over documents a vial left with ('out') or arrived with ('in'), one row each beside its event.

The document is kept as sent or received, JSON with its checksum (:mod:`monitor.handover` builds and
checks it); a receipt's carried state is read back from it for the potency model.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from monitor.model import carried_states
from monitor.model.inputs import CarriedState, PotencyState

Direction = Literal["out", "in"]
STATE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PotencyState))


@dataclass(frozen=True, slots=True)
class HandoverRecord:
    id: int
    vial_id: int
    event_id: int
    direction: Direction
    ts: float  # the hand-over's true time
    peer_site: str  # 'out': where it went; 'in': where it came from
    document: dict[str, Any]
    checksum: str


_COLUMNS = "id, vial_id, event_id, direction, ts, peer_site, document, checksum"


def add(
    conn: sqlite3.Connection,
    *,
    vial_id: int,
    event_id: int,
    direction: Direction,
    ts: float,
    peer_site: str,
    document_text: str,
    checksum: str,
) -> int:
    cur = conn.execute(
        f"INSERT INTO vial_handovers ({_COLUMNS.removeprefix('id, ')}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (vial_id, event_id, direction, ts, peer_site, document_text, checksum),
    )
    return int(cur.lastrowid or 0)


def _record(row: Sequence[Any]) -> HandoverRecord:
    i, vial_id, event_id, direction, ts, peer, document, checksum = row
    return HandoverRecord(
        int(i), int(vial_id), int(event_id), direction, float(ts), peer, json.loads(document), checksum
    )


def of_vial(conn: sqlite3.Connection, vial_id: int) -> list[HandoverRecord]:
    """The vial's hand-overs in the order they happened."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM vial_handovers WHERE vial_id = ? ORDER BY ts, id", (vial_id,)
    ).fetchall()
    return [_record(r) for r in rows]


def of_vials(conn: sqlite3.Connection, vial_ids: Sequence[int]) -> dict[int, list[HandoverRecord]]:
    """:func:`of_vial` for each of ``vial_ids`` (those without any are left out), in one statement."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM vial_handovers WHERE vial_id IN (SELECT value FROM json_each(?))"
        " ORDER BY vial_id, ts, id",
        (json.dumps(list(vial_ids)),),
    ).fetchall()
    out: dict[int, list[HandoverRecord]] = {}
    for row in rows:
        found = _record(row)
        out.setdefault(found.vial_id, []).append(found)
    return out


def by_checksum(conn: sqlite3.Connection, checksum: str, direction: Direction) -> HandoverRecord | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM vial_handovers WHERE checksum = ? AND direction = ?"
        " ORDER BY id DESC LIMIT 1",
        (checksum, direction),
    ).fetchone()
    return None if row is None else _record(row)


def carried(conn: sqlite3.Connection, vial_ids: Sequence[int]) -> dict[int, tuple[CarriedState, ...]]:
    """Each vial's receipts from other sites, in time order, with the state each carried: one statement."""
    rows = conn.execute(
        "SELECT vial_id, ts, peer_site, document FROM vial_handovers WHERE direction = 'in'"
        " AND vial_id IN (SELECT value FROM json_each(?)) ORDER BY vial_id, ts, id",
        (json.dumps(list(vial_ids)),),
    ).fetchall()
    out: dict[int, list[CarriedState]] = {}
    for vial_id, ts, peer, text in rows:
        out.setdefault(int(vial_id), []).append(carried_states.receipt(float(ts), peer, json.loads(text)))
    return {v: tuple(c) for v, c in out.items()}
