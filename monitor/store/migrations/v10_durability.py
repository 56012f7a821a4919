"""10: durability: each bridge run (a run without stopped_ts ended uncleanly), system events (clock jumps,
outages, disk and database trouble) that belong to no sensor, and one-minute aggregates of old readings
"""

from __future__ import annotations

SQL = """
    CREATE TABLE bridge_runs (
        id INTEGER PRIMARY KEY,
        pid INTEGER NOT NULL,
        started_ts REAL NOT NULL,
        stopped_ts REAL
    );
    CREATE TABLE system_events (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    -- Readings past the retention period, one row per sensor and minute (monitor/store/retention.py):
    -- cum_end is the ledger at the minute's last reading as stored, dose its increment since the row before.
    CREATE TABLE minute_aggregates (
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        minute_ts REAL NOT NULL,
        readings INTEGER NOT NULL,
        min_value REAL NOT NULL,
        mean_value REAL NOT NULL,
        max_value REAL NOT NULL,
        saturated INTEGER NOT NULL,
        saturated_sum REAL NOT NULL,
        first_ts REAL NOT NULL,
        last_ts REAL NOT NULL,
        last_value REAL NOT NULL,
        cum_end REAL NOT NULL,
        dose REAL NOT NULL,
        PRIMARY KEY (sensor_id, minute_ts)
    ) WITHOUT ROWID;
"""
