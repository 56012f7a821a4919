"""6: readings from serial microcontrollers: every frame stored once, per device boot the clock offset and
the sequence number acknowledged through (docs/serial-protocol.md)
"""

from __future__ import annotations

SQL = """
    CREATE TABLE serial_boots (
        device_id TEXT NOT NULL,
        boot_id TEXT NOT NULL,
        wall_offset_seconds REAL NOT NULL,
        acked_through INTEGER NOT NULL,
        firmware_version TEXT NOT NULL,
        last_seen_ts REAL NOT NULL,
        PRIMARY KEY (device_id, boot_id)
    ) WITHOUT ROWID;
    CREATE TABLE serial_frames (
        device_id TEXT NOT NULL,
        boot_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        ts REAL NOT NULL,
        PRIMARY KEY (device_id, boot_id, seq)
    ) WITHOUT ROWID;
"""
