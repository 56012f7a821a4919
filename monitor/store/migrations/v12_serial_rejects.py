"""12: serial input refused, by port and kind, so an integrator sees a noisy cable without the bridge's log"""

from __future__ import annotations

SQL = """
    CREATE TABLE serial_rejects (
        port TEXT NOT NULL,  -- the port's pyserial URL, as configured
        kind TEXT NOT NULL,  -- noise, truncated, checksum, overlong, version, malformed, before-hello, ...
        count INTEGER NOT NULL,
        first_ts REAL NOT NULL,  -- the commit that first counted one, and the latest
        last_ts REAL NOT NULL,
        PRIMARY KEY (port, kind)
    ) WITHOUT ROWID;
"""
