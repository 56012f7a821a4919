"""The database schema: the migrations (:mod:`monitor.store.migrations`) run in order, once each.

``PRAGMA user_version`` holds how many ran. ``monitor/store/schema.sql`` is the schema they give a new
database (:mod:`monitor.store.schema_sql`).
"""

from __future__ import annotations

import sqlite3

from monitor.errors import SchemaError
from monitor.store.migrations import MIGRATIONS, REBUILDS

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
        rebuild = version in REBUILDS
        foreign_keys = int(conn.execute("PRAGMA foreign_keys").fetchone()[0])
        if rebuild:  # a no-op inside a transaction: set before it begins
            conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("BEGIN IMMEDIATE")
        try:
            if rebuild:  # the triggers naming the table are right again once the new one has its name
                conn.execute("PRAGMA legacy_alter_table = ON")
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            broken = conn.execute("PRAGMA foreign_key_check").fetchone() if rebuild else None
            if broken is not None:
                raise sqlite3.IntegrityError(f"foreign key check fails: {tuple(broken)}")
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise SchemaError(f"migration to schema version {version + 1} failed: {exc}") from exc
        finally:
            if rebuild:
                conn.execute("PRAGMA legacy_alter_table = OFF")
                conn.execute(f"PRAGMA foreign_keys = {foreign_keys}")
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
