"""8: the audit trail. Each row's hash covers the previous row's hash and the row's own fields, so an edited
row breaks the chain from there on; AUTOINCREMENT never reuses an id, so a deleted row leaves a gap (or,
for the last row, sqlite_sequence ahead of the last id). detail is canonical JSON.
"""

from __future__ import annotations

SQL = """
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
"""
