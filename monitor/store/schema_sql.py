"""``schema.sql``: the schema a freshly migrated database has, as text, in an order that never varies.

Checked in beside the migrations so a reviewer reads the schema a change produces, not only the steps to
it; ``tests/monitor/test_schema.py`` migrates a new database and compares. After adding a migration:

    python -m monitor.store.schema_sql

writes the file again (``--check`` only compares, and exits 1 when it differs).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from monitor.store.database import Database
from monitor.store.schema import SCHEMA_VERSION

SCHEMA_SQL = Path(__file__).with_name("schema.sql")

_HEADER = (
    "-- The schema of a freshly migrated vialguard database. Generated: do not edit; after adding a\n"
    "-- migration (monitor/store/migrations/), run `python -m monitor.store.schema_sql`.\n"
)
# Within a table: the table, then its indexes, then its triggers.
_KINDS = ("table", "index", "trigger", "view")


def dump(conn: sqlite3.Connection) -> str:
    """The schema of ``conn`` as SQL: its version, then each table (by name) with its indexes and
    triggers, each statement as SQLite stores it. SQLite's own tables and automatic indexes are left out."""
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema"
        " WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    ).fetchall()
    rows.sort(key=lambda r: (r[2], _KINDS.index(r[0]), r[1]))
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    parts = [_HEADER, f"PRAGMA user_version = {version};\n"]
    parts += [f"\n{sql};\n" for _, _, _, sql in rows]
    return "".join(parts)


def fresh() -> str:
    """The schema of a new database, created and migrated as the bridge does it, in a scratch directory."""
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(Path(scratch) / "fresh.db")
        db.initialise()
        conn = db.connect()
        try:
            text = dump(conn)
        finally:
            conn.close()
    if f"PRAGMA user_version = {SCHEMA_VERSION};" not in text:
        raise RuntimeError(f"a fresh database did not reach schema version {SCHEMA_VERSION}")
    return text


def main(argv: list[str]) -> int:
    """Write ``schema.sql`` (or, with ``--check``, compare it: 0 when it matches, 1 when not)."""
    text = fresh()
    if "--check" in argv:
        return 0 if SCHEMA_SQL.exists() and SCHEMA_SQL.read_text(encoding="utf-8") == text else 1
    SCHEMA_SQL.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
