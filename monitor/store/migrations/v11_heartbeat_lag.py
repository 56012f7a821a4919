"""11: the bridge's commit window in its heartbeat, so a reader tells readings not yet committed from a
silence
"""

from __future__ import annotations

SQL = """
    ALTER TABLE heartbeat ADD COLUMN report_lag_seconds REAL NOT NULL DEFAULT 0;
"""
