"""The database schema: the migrations (:mod:`monitor.store.migrations`) run in order, once each.

``PRAGMA user_version`` holds how many ran. ``monitor/store/schema.sql`` is the schema they give a new
database (:mod:`monitor.store.schema_sql`).
"""

from __future__ import annotations

import sqlite3

from monitor.errors import SchemaError
from monitor.store.migrations import MIGRATIONS

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; returns the version found before."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise SchemaError(
            f"database schema version {found} is newer than this vialguard understands ({SCHEMA_VERSION})"
        )
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise SchemaError(f"migration to schema version {version + 1} failed: {exc}") from exc
    return found


def _statements(script: str) -> list[str]:
    """Split a migration into statements, so it runs inside one explicit transaction."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
