"""The uplink's outbox: every row central must receive, numbered in commit order, kept until acknowledged.

Triggers fill ``uplink_outbox`` in the same transaction as the write they record (readings, gaps and their
removal, vial events, alert changes, audit rows), so nothing commits without its entry. They fire only
while ``uplink_state`` has its one row, which :func:`enable` writes for a site with a fleet configured: a
Pi that uplinks nowhere writes nothing more to its SD card.

Readings, the bulk, are queued by reference (sensor and time, about 30 bytes): the uplink reads the row
when it sends it, and retention keeps every reading still queued (:func:`oldest_queued_reading_ts`). The
rarer rows are copied as JSON when written: an alert's state at each change, a gap that a re-integration
may later delete.

Numbering: ``seq`` is ``AUTOINCREMENT``, never reused even once every row is acknowledged and deleted.
Numbers are per database and per *epoch*, a random name drawn when the uplink is enabled and again
whenever the numbers may repeat: a database restored from a backup starts a new epoch (the backup drops
the epoch, see :func:`forget_epoch`), and so does one that central has acknowledged further than it ever
numbered. Central acknowledges cumulatively per site and epoch (``through``); only then are rows deleted.

Proof of ownership (migration 22): a copy of the database put back by hand keeps its epoch and its counter,
and may number new rows that central already holds, under the same numbers, from the lost timeline. So
each row extends a running digest (:mod:`monitor.store.outbox_chain`), the batch carries it and central
returns the digest at its acknowledged point; a database whose own digest there differs, or which never
numbered that far, holds other rows than central and draws a new epoch (:func:`new_epoch`).
``uplink_state.acked_digest`` keeps the digest at the acknowledged point, since those rows are deleted.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

from monitor.errors import StoreError
from monitor.store import config_mirror
from monitor.store.outbox_chain import link
from monitor.store.outbox_sql import ENABLED, NOW, copy_trigger, key_of, real


def _gap_json(r: str) -> str:
    return (
        f"json_object('id', {r}.id, 'sensor', {key_of('sensors', f'{r}.sensor_id')},"
        f" 'start_ts', {real(f'{r}.start_ts')}, 'end_ts', {real(f'{r}.end_ts')}, 'reason', {r}.reason)"
    )


def _vial_event_json(r: str) -> str:
    return (
        f"(SELECT json_object('id', {r}.id, 'vial', v.key, 'drug', v.drug, 'form', v.form, 'lot', v.lot,"
        f" 'expiry', v.expiry, 'initial_potency_percent', {real('v.initial_potency_percent')},"
        f" 'ts', {real(f'{r}.ts')}, 'kind', {r}.kind, 'location', {key_of('locations', f'{r}.location_id')},"
        f" 'packaging', {r}.packaging, 'detail', {r}.detail, 'recorded_ts', {real(f'{r}.recorded_ts')})"
        f" FROM vials AS v WHERE v.id = {r}.vial_id)"
    )


def _vial_handover_json(r: str) -> str:
    """A hand-over document sent or received (migration 20), for central to relay to the receiving site
    and to join the vial's ledgers across sites: the document as the site holds it, checksum included."""
    return (
        f"json_object('id', {r}.id, 'vial', {key_of('vials', f'{r}.vial_id')}, 'event_id', {r}.event_id,"
        f" 'direction', {r}.direction, 'ts', {real(f'{r}.ts')}, 'peer_site', {r}.peer_site,"
        f" 'checksum', {r}.checksum, 'document', json({r}.document))"
    )


def _alert_json(a: str, e: str) -> str:
    """An alert as it stands after its change ``e`` (an alert_events row); an infinite value is null."""
    return (
        f"json_object('event_seq', {e}.seq, 'event_kind', {e}.kind, 'event_ts', {real(f'{e}.ts')},"
        f" 'event_detail', {e}.detail, 'id', {a}.id, 'fingerprint', {a}.fingerprint, 'rule', {a}.rule,"
        f" 'severity', {a}.severity, 'state', {a}.state, 'alert_class', {a}.alert_class,"
        f" 'location', {key_of('locations', f'{a}.location_id')}, 'vial', {key_of('vials', f'{a}.vial_id')},"
        f" 'sensor', {key_of('sensors', f'{a}.sensor_id')}, 'started_ts', {real(f'{a}.started_ts')},"
        f" 'fired_ts', {real(f'{a}.fired_ts')}, 'ended_ts', {real(f'{a}.ended_ts')},"
        f" 'value', CASE WHEN abs({a}.value) < 9e999 THEN {real(f'{a}.value')} END,"
        f" 'worst_value', CASE WHEN abs({a}.worst_value) < 9e999 THEN {real(f'{a}.worst_value')} END,"
        f" 'message', {a}.message, 'acknowledged_by', {a}.ack_by, 'acknowledgement_comment', {a}.ack_comment,"
        f" 'ack_ts', {real(f'{a}.ack_ts')}, 'escalated_ts', {real(f'{a}.escalated_ts')},"
        f" 'silence_id', {a}.silence_id)"
    )


def _audit_json(r: str) -> str:
    return (
        f"json_object('id', {r}.id, 'ts', {real(f'{r}.ts')}, 'actor', {r}.actor, 'action', {r}.action,"
        f" 'subject', {r}.subject, 'detail', {r}.detail, 'prev_hash', {r}.prev_hash, 'hash', {r}.hash)"
    )


def _reading_trigger(quantity: str) -> str:
    return f"""
    CREATE TRIGGER {quantity}_reading_to_uplink AFTER INSERT ON {quantity}_readings WHEN {ENABLED}
    BEGIN
        INSERT INTO uplink_outbox (kind, sensor_id, ts, queued_ts)
        VALUES ('{quantity}', NEW.sensor_id, NEW.ts, {NOW});
    END;"""


# Migration 17 (migrations/v17_uplink_outbox.py): the fleet uplink's outbox (this module's docstring). A
# later migration that rebuilds one of the tables named here must create its trigger again: dropping a
# table drops its triggers.
MIGRATION = (
    """
    CREATE TABLE uplink_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        site TEXT NOT NULL,
        epoch TEXT,  -- null: draw a new one before sending (a database restored from a backup)
        epoch_base_seq INTEGER NOT NULL,  -- the last seq numbered before this epoch began
        acked_seq INTEGER NOT NULL,  -- central's cumulative acknowledgement, in this epoch
        acked_ts REAL  -- real time of the last advance
    );
    -- Readings by reference (sensor_id, ts); every other kind copied into body as JSON.
    CREATE TABLE uplink_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        sensor_id INTEGER,
        ts REAL,
        body TEXT,
        queued_ts REAL NOT NULL
    );
    """
    + _reading_trigger("light")
    + _reading_trigger("temperature")
    + copy_trigger("gap_to_uplink", "INSERT", "gaps", "gap", _gap_json("NEW"))
    + copy_trigger("gap_removal_to_uplink", "DELETE", "gaps", "gap-removed", "json_object('id', OLD.id)")
    + copy_trigger("vial_event_to_uplink", "INSERT", "vial_events", "vial-event", _vial_event_json("NEW"))
    + copy_trigger(
        "alert_change_to_uplink",
        "UPDATE OF seq",
        "alerts",
        "alert",
        f"(SELECT {_alert_json('NEW', 'e')} FROM alert_events AS e WHERE e.seq = NEW.seq)",
        when="NEW.seq > OLD.seq",
    )
    + copy_trigger("audit_row_to_uplink", "INSERT", "audit_log", "audit", _audit_json("NEW"))
)

# Migration 20 (migrations/v20_vial_handover.py): hand-over documents go to central too.
HANDOVER_TRIGGER = copy_trigger(
    "vial_handover_to_uplink", "INSERT", "vial_handovers", "vial-handover", _vial_handover_json("NEW")
)

READING_KINDS = ("light", "temperature")


@dataclass(frozen=True, slots=True)
class UplinkState:
    site: str
    epoch: str | None
    epoch_base_seq: int
    acked_seq: int
    acked_ts: float | None
    acked_digest: str  # the chain's digest at acked_seq ('' where the chain began)
    parent_epoch: str | None  # the epoch this one replaced, when a check drew it
    epoch_reason: str | None  # why this epoch was drawn (None: the uplink was enabled)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A queued row as it goes to central: ``record`` is None for a reading no longer stored (which only a
    hand-edited database can lose: retention keeps queued readings)."""

    seq: int
    kind: str
    record: dict[str, Any] | None
    digest: str  # the chain's digest through this row


@dataclass(frozen=True, slots=True)
class Backlog:
    rows: int
    oldest_queued_ts: float | None  # real time the oldest unacknowledged row was queued
    last_seq: int  # the last number given in this database (0 if none)


def state(conn: sqlite3.Connection) -> UplinkState | None:
    row = conn.execute(
        "SELECT site, epoch, epoch_base_seq, acked_seq, acked_ts, acked_digest, parent_epoch, epoch_reason"
        " FROM uplink_state WHERE id = 1"
    ).fetchone()
    return None if row is None else UplinkState(*row)


def last_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'uplink_outbox'").fetchone()
    return 0 if row is None else int(row[0])


def enable(conn: sqlite3.Connection, site: str) -> UplinkState:
    """Queue from now on for ``site``, and back-fill what the database already holds (its configuration
    first, :mod:`monitor.store.config_mirror`; each alert as it stands: its earlier states were never
    kept); inside the caller's write transaction. A database that already uplinks keeps its state; one
    of another site is refused."""
    found = state(conn)
    if found is not None:
        if found.site != site:
            raise StoreError(
                f"this database uplinks as site {found.site!r}, not {site!r}: a database belongs to one site"
            )
        return found
    base = last_seq(conn)
    conn.execute(
        "INSERT INTO uplink_state (id, site, epoch, epoch_base_seq, acked_seq) VALUES (1, ?, ?, ?, ?)",
        (site, secrets.token_hex(8), base, base),
    )
    # The configuration first: central reads a sensor's location and a vial's facts from it.
    config_mirror.backfill(conn)
    for quantity in READING_KINDS:
        conn.execute(
            f"INSERT INTO uplink_outbox (kind, sensor_id, ts, queued_ts)"
            f" SELECT '{quantity}', sensor_id, ts, {NOW} FROM {quantity}_readings ORDER BY ts"
        )
    backfill = (
        ("gap", _gap_json("g"), "gaps AS g", "g.id"),
        ("vial-event", _vial_event_json("x"), "vial_events AS x", "x.id"),
        ("audit", _audit_json("r"), "audit_log AS r", "r.id"),
        ("vial-handover", _vial_handover_json("h"), "vial_handovers AS h", "h.id"),
        ("alert", _alert_json("a", "e"), "alerts AS a JOIN alert_events AS e ON e.seq = a.seq", "a.seq"),
    )
    for kind, body, source, order in backfill:
        conn.execute(
            f"INSERT INTO uplink_outbox (kind, body, queued_ts)"
            f" SELECT '{kind}', {body}, {NOW} FROM {source} ORDER BY {order}"
        )
    enabled = state(conn)
    assert enabled is not None
    return enabled


def new_epoch(conn: sqlite3.Connection, reason: str) -> UplinkState:
    """Draw a new epoch starting after the last acknowledged row, naming the one it replaces and
    ``reason``; inside the caller's write transaction. Rows not yet acknowledged are sent again under it.
    The chain goes on through the new epoch: the digest at the acknowledged point stays."""
    conn.execute(
        "UPDATE uplink_state SET parent_epoch = epoch, epoch_reason = ?, epoch = ?,"
        " epoch_base_seq = acked_seq WHERE id = 1",
        (reason, secrets.token_hex(8)),
    )
    found = state(conn)
    if found is None:
        raise StoreError("the uplink is not enabled on this database")
    return found


def forget_epoch(conn: sqlite3.Connection) -> None:
    """Make the next uplink draw a new epoch: for a copy of the database (a backup), whose numbers would
    repeat those the original goes on to send if it were ever restored."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'uplink_state'").fetchone() is not None:
        conn.execute("UPDATE uplink_state SET epoch = NULL")


def acknowledge(
    conn: sqlite3.Connection, epoch: str, through: int, now: float, digest: str | None = None
) -> int:
    """Central has committed every row up to ``through`` in ``epoch``: delete them, keeping the chain's
    ``digest`` there (computed here when not given); inside the caller's write transaction. Returns the
    rows deleted (0 for another epoch or a point already passed)."""
    found = state(conn)
    if found is None or found.epoch != epoch or through <= found.acked_seq:
        return 0
    if digest is None:
        digest = digest_at(conn, found.acked_seq, found.acked_digest, through)
        if digest is None:
            raise StoreError(f"acknowledged through {through}, beyond the last number this database gave")
    conn.execute(
        "UPDATE uplink_state SET acked_seq = ?, acked_ts = ?, acked_digest = ? WHERE id = 1",
        (through, now, digest),
    )
    return conn.execute("DELETE FROM uplink_outbox WHERE seq <= ?", (through,)).rowcount


def backlog(conn: sqlite3.Connection) -> Backlog:
    row = conn.execute("SELECT count(*), min(queued_ts) FROM uplink_outbox").fetchone()
    return Backlog(int(row[0]), None if row[1] is None else float(row[1]), last_seq(conn))


def oldest_queued_reading_ts(conn: sqlite3.Connection, sensor_id: int) -> float | None:
    """The oldest reading of the sensor still queued, which retention must keep."""
    row = conn.execute(
        "SELECT min(ts) FROM uplink_outbox WHERE sensor_id = ? AND kind IN ('light', 'temperature')",
        (sensor_id,),
    ).fetchone()
    return None if row[0] is None else float(row[0])


_READING_SQL = {
    "light": (
        "SELECT s.key, r.ts, r.lux, r.saturated, r.cum_lux_hours FROM light_readings AS r"
        " JOIN sensors AS s ON s.id = r.sensor_id WHERE r.sensor_id = ? AND r.ts = ?",
        ("sensor", "ts", "lux", "saturated", "cum_lux_hours"),
    ),
    "temperature": (
        "SELECT s.key, r.ts, r.celsius, r.relative_humidity_percent, r.cum_equivalent_hours"
        " FROM temperature_readings AS r JOIN sensors AS s ON s.id = r.sensor_id"
        " WHERE r.sensor_id = ? AND r.ts = ?",
        ("sensor", "ts", "celsius", "relative_humidity_percent", "cum_equivalent_hours"),
    ),
}


def digest_at(conn: sqlite3.Connection, from_seq: int, from_digest: str, through: int) -> str | None:
    """This database's digest through ``through``, chained from ``from_digest`` at ``from_seq`` over the
    rows it holds in between; None if it never numbered that far."""
    if through > last_seq(conn):
        return None
    digest = bytes.fromhex(from_digest)
    for row in conn.execute(
        "SELECT seq, kind, sensor_id, ts, body, queued_ts FROM uplink_outbox WHERE seq > ? AND seq <= ?"
        " ORDER BY seq",
        (from_seq, through),
    ):
        digest = link(digest, *row)
    return digest.hex()


def pending(conn: sqlite3.Connection, after_seq: int, limit: int, after_digest: str = "") -> list[OutboxRow]:
    """Up to ``limit`` queued rows numbered after ``after_seq``, oldest first, readings read in full, each
    with the chain's digest through it from ``after_digest`` (the digest through ``after_seq``); call
    inside a read transaction so every row comes from one committed state."""
    out: list[OutboxRow] = []
    digest = bytes.fromhex(after_digest)
    for seq, kind, sensor_id, ts, body, queued_ts in conn.execute(
        "SELECT seq, kind, sensor_id, ts, body, queued_ts FROM uplink_outbox WHERE seq > ? ORDER BY seq"
        " LIMIT ?",
        (after_seq, limit),
    ).fetchall():
        digest = link(digest, seq, kind, sensor_id, ts, body, queued_ts)
        record: dict[str, Any] | None
        if kind in _READING_SQL:
            sql, names = _READING_SQL[kind]
            found = conn.execute(sql, (sensor_id, ts)).fetchone()
            record = None if found is None else dict(zip(names, found, strict=True))
        else:
            record = None if body is None else json.loads(body)
        out.append(OutboxRow(int(seq), str(kind), record, digest.hex()))
    return out
