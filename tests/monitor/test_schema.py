"""schema.sql is the schema the migrations give a new database; the migration list is whole and in order."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from monitor.alerts.vocabulary import ALERT_CLASSES, ALERT_STATES, SEVERITIES, sql_in
from monitor.store import migrations
from monitor.store.database import Database
from monitor.store.schema import SCHEMA_VERSION
from monitor.store.schema_sql import SCHEMA_SQL, dump


def _migrated(path: Path) -> str:
    db = Database(path)
    db.initialise()
    conn = db.connect()
    try:
        return dump(conn)
    finally:
        conn.close()


def test_schema_sql_is_what_the_migrations_make(tmp_path: Path) -> None:
    """A new SQLite file, migrated, has exactly the checked-in schema.sql (regenerate it with
    ``python -m monitor.store.schema_sql`` after adding a migration)."""
    migrated = _migrated(tmp_path / "fresh.db")
    checked_in = SCHEMA_SQL.read_text(encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            checked_in.splitlines(keepends=True),
            migrated.splitlines(keepends=True),
            fromfile="monitor/store/schema.sql (checked in)",
            tofile="a freshly migrated database",
        )
    )
    regenerate = "run python -m monitor.store.schema_sql"
    assert not diff, f"schema.sql differs from a migrated database ({regenerate}):\n{diff}"


def test_the_dump_does_not_depend_on_the_database(tmp_path: Path) -> None:
    """Two databases migrated apart give the same text: the order is fixed, not the file's."""
    assert _migrated(tmp_path / "a.db") == _migrated(tmp_path / "b.db")


def test_migrations_are_numbered_in_order_and_all_listed() -> None:
    """NAMES runs v01, v02, ... without a hole, and lists every migration module in the folder."""
    found = [re.fullmatch(r"v(\d\d)_[a-z0-9_]+", name) for name in migrations.NAMES]
    numbers = [int(m[1]) for m in found if m is not None]
    assert numbers == list(range(1, len(numbers) + 1))
    folder = Path(migrations.__file__).parent
    assert {p.stem for p in folder.glob("v*.py")} == set(migrations.NAMES)
    assert len(migrations.NAMES) == SCHEMA_VERSION


def test_alert_checks_are_the_vocabulary() -> None:
    """The alerts table's CHECK constraints list the vocabulary's severities, states and classes."""
    schema = SCHEMA_SQL.read_text(encoding="utf-8")
    alerts = schema[schema.index('CREATE TABLE "alerts"') :].split(";", 1)[0]
    assert f"severity IN {sql_in(SEVERITIES)}" in alerts
    assert f"state IN {sql_in(ALERT_STATES)}" in alerts
    assert f"alert_class IN {sql_in(ALERT_CLASSES)}" in alerts
