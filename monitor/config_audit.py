"""Configuration changes in the audit trail: one row each time the bridge starts on different settings.

Each top-level section of the settings is reduced to a digest; the row names the sections that changed
and keeps every section's digest for the next comparison. Webhook secrets are not in the settings (they
live in the ``secrets_file``, see monitor/webhook_secrets.py), so rotating one is not a row.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from monitor.config import Settings
from monitor.store import audit as audit_store

ACTION = "config.changed"


def section_digests(settings: Settings) -> dict[str, str]:
    data: dict[str, Any] = settings.model_dump(mode="json")
    return {
        name: hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]
        for name, value in sorted(data.items())
    }


def record_config(conn: sqlite3.Connection, settings: Settings, ts: float, actor: str) -> bool:
    """Append a row if the settings differ from those last recorded; inside the caller's transaction."""
    digests = section_digests(settings)
    row = conn.execute(
        "SELECT detail FROM audit_log WHERE action = ? ORDER BY id DESC LIMIT 1", (ACTION,)
    ).fetchone()
    before: dict[str, str] = {} if row is None else json.loads(row[0])["sections"]
    changed = sorted(name for name in digests.keys() | before.keys() if digests.get(name) != before.get(name))
    if not changed:
        return False
    detail = {"changed": changed, "sections": digests, "site_name": settings.site_name}
    audit_store.append(conn, ts, actor, ACTION, "config", detail)
    return True
