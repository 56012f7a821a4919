"""Serial microcontroller bookkeeping: which frames are stored, and per device boot its clock offset and how
far the host has acknowledged. Written in the same transaction as the readings the frames carried, so an
acknowledged frame is always a stored one and a frame sent again is recognised (docs/serial-protocol.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FrameKey:
    device_id: str
    boot_id: str
    seq: int
    ts: float  # the wall time of the reading it carried


@dataclass(frozen=True, slots=True)
class BootRecord:
    device_id: str
    boot_id: str
    wall_offset_seconds: float  # wall time = offset + uptime
    acked_through: int  # every frame up to here is stored or known lost
    firmware_version: str
    last_seen_ts: float


def record(conn: sqlite3.Connection, frames: Sequence[FrameKey], boots: Iterable[BootRecord]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO serial_frames (device_id, boot_id, seq, ts) VALUES (?, ?, ?, ?)",
        [(f.device_id, f.boot_id, f.seq, f.ts) for f in frames],
    )
    conn.executemany(
        "INSERT INTO serial_boots (device_id, boot_id, wall_offset_seconds, acked_through, firmware_version,"
        " last_seen_ts) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, boot_id) DO UPDATE SET"
        " wall_offset_seconds = excluded.wall_offset_seconds,"
        " acked_through = MAX(acked_through, excluded.acked_through),"
        " firmware_version = excluded.firmware_version, last_seen_ts = excluded.last_seen_ts",
        [
            (
                b.device_id,
                b.boot_id,
                b.wall_offset_seconds,
                b.acked_through,
                b.firmware_version,
                b.last_seen_ts,
            )
            for b in boots
        ],
    )


@dataclass(frozen=True, slots=True)
class RejectCount:
    port: str
    kind: str
    count: int
    first_ts: float
    last_ts: float


def add_rejects(conn: sqlite3.Connection, rejects: Mapping[tuple[str, str], int], ts: float) -> None:
    """Add counts of refused serial input, by ``(port, kind)``, to the totals kept since the start."""
    conn.executemany(
        "INSERT INTO serial_rejects (port, kind, count, first_ts, last_ts) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (port, kind) DO UPDATE SET count = count + excluded.count, last_ts = excluded.last_ts",
        [(port, kind, n, ts, ts) for (port, kind), n in rejects.items() if n > 0],
    )


def list_rejects(conn: sqlite3.Connection) -> list[RejectCount]:
    rows = conn.execute(
        "SELECT port, kind, count, first_ts, last_ts FROM serial_rejects ORDER BY port, kind"
    ).fetchall()
    return [RejectCount(str(p), str(k), int(n), float(f), float(t)) for p, k, n, f, t in rows]


def load_boot(conn: sqlite3.Connection, device_id: str, boot_id: str) -> BootRecord | None:
    row = conn.execute(
        "SELECT wall_offset_seconds, acked_through, firmware_version, last_seen_ts FROM serial_boots"
        " WHERE device_id = ? AND boot_id = ?",
        (device_id, boot_id),
    ).fetchone()
    if row is None:
        return None
    return BootRecord(device_id, boot_id, float(row[0]), int(row[1]), str(row[2]), float(row[3]))


def stored_above(conn: sqlite3.Connection, device_id: str, boot_id: str, seq: int) -> set[int]:
    """Sequence numbers stored beyond ``seq`` (frames that arrived out of order)."""
    rows = conn.execute(
        "SELECT seq FROM serial_frames WHERE device_id = ? AND boot_id = ? AND seq > ?",
        (device_id, boot_id, seq),
    ).fetchall()
    return {int(r[0]) for r in rows}


def frame_ts(conn: sqlite3.Connection, device_id: str, boot_id: str, below_seq: int) -> float | None:
    """The reading time of the newest stored frame numbered below ``below_seq``."""
    row = conn.execute(
        "SELECT ts FROM serial_frames WHERE device_id = ? AND boot_id = ? AND seq < ?"
        " ORDER BY seq DESC LIMIT 1",
        (device_id, boot_id, below_seq),
    ).fetchone()
    return None if row is None else float(row[0])


def count(conn: sqlite3.Connection, device_id: str | None = None) -> int:
    if device_id is None:
        return int(conn.execute("SELECT COUNT(*) FROM serial_frames").fetchone()[0])
    return int(
        conn.execute("SELECT COUNT(*) FROM serial_frames WHERE device_id = ?", (device_id,)).fetchone()[0]
    )


def list_boots(conn: sqlite3.Connection) -> list[BootRecord]:
    """Every boot heard of, by device, the most recently heard first."""
    rows = conn.execute(
        "SELECT device_id, boot_id, wall_offset_seconds, acked_through, firmware_version, last_seen_ts"
        " FROM serial_boots ORDER BY device_id, last_seen_ts DESC"
    ).fetchall()
    return [BootRecord(str(d), str(b), float(o), int(a), str(f), float(t)) for d, b, o, a, f, t in rows]
