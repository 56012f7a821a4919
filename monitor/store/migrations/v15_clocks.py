"""15: one clock: the simulated clock a running simulation stamps with, for every other process that writes
(the command line's vial events, tokens); and the real clock's high-water mark, so that token expiry
never runs backwards with a wall clock stepped back
"""

from __future__ import annotations

SQL = """
    CREATE TABLE simulated_clock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        speed REAL NOT NULL CHECK (speed > 0),
        sim_origin_ts REAL NOT NULL,
        real_origin_monotonic REAL NOT NULL,
        boot_id TEXT NOT NULL,
        pid INTEGER NOT NULL
    );
    CREATE TABLE real_clock_high_water (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        real_ts REAL NOT NULL
    );
"""
