"""Commands that only read open the database read-only: they never create, migrate or add to one."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from importlib import resources
from pathlib import Path

import pytest

from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store.schema import SCHEMA_VERSION
from vialguard.cli import build_parser, main
from vialguard.options import settings_from

# Every command that only reads the database, with the options it needs besides where the database is.
READ_COMMANDS: dict[str, list[str]] = {
    "vials list": ["vials", "list"],
    "vials list --json": ["vials", "list", "--json"],
    "token list": ["token", "list"],
    "audit verify": ["audit", "verify"],
    "audit list": ["audit", "list"],
}
WHERE_ONLY_COMMANDS: dict[str, list[str]] = {"db check": ["db", "check"]}  # takes --db and --config only


def _site_with_an_extra_sensor(tmp_path: Path) -> Path:
    """The shipped simulated site plus a location and a sensor a live database does not have."""
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    extra = (
        '\n[[locations]]\nkey = "cabinet-9"\nname = "Cabinet 9"\nkind = "cabinet"\n'
        '\n[[sensors]]\nkey = "cabinet-9-temp"\nlocation = "cabinet-9"\nquantity = "temperature"\n'
        'driver = "mcp9808"\ninterval_seconds = 10.0\n'
    )
    cut = text.index("[[vials]]")
    path = tmp_path / "other-site.toml"
    path.write_text(text[:cut] + extra + "\n" + text[cut:], encoding="utf-8")
    return path


def _live(db: Path) -> None:
    settings = settings_from(build_parser().parse_args(["vials", "list", "--simulate", "--db", str(db)]))
    database = Database(settings.db_path)
    database.initialise()
    conn = database.connect()
    sync_site(conn, settings, time.time())
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _state(db: Path) -> tuple[str, list[tuple[object, ...]], int]:
    """The file's bytes, its sensors and locations, and the size of what is waiting in its WAL."""
    wal = db.with_name(db.name + "-wal")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = conn.execute("SELECT key FROM sensors UNION ALL SELECT key FROM locations ORDER BY 1").fetchall()
    conn.close()
    return hashlib.sha256(db.read_bytes()).hexdigest(), rows, wal.stat().st_size if wal.exists() else 0


ALL = READ_COMMANDS | WHERE_ONLY_COMMANDS


@pytest.mark.parametrize("command", ALL)
def test_a_missing_database_is_an_error_naming_it_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """No database there: exit 2 naming the path; neither the file nor its folder appears."""
    db = tmp_path / "nowhere" / "vialguard.db"
    where = ["--db", str(db)] if command in WHERE_ONLY_COMMANDS else ["--simulate", "--db", str(db)]
    assert main([*ALL[command], *where]) == 2
    assert str(db) in capsys.readouterr().err
    assert not db.parent.exists()


@pytest.mark.parametrize("command", ALL)
def test_another_configs_sites_are_not_written_into_a_live_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Run with a config naming a sensor the live database lacks: not one byte of the database changes."""
    db = tmp_path / "vialguard.db"
    _live(db)
    before = _state(db)
    config = _site_with_an_extra_sensor(tmp_path)
    assert main([*ALL[command], "--config", str(config), "--db", str(db)]) == 0, capsys.readouterr().err
    after = _state(db)
    assert after == before
    assert ("cabinet-9-temp",) not in after[1]


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_an_older_schema_is_not_migrated_by_a_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """A database of an older schema version: the reading command says so and leaves it as it is."""
    db = tmp_path / "vialguard.db"
    _live(db)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    conn.close()
    assert main([*READ_COMMANDS[command], "--simulate", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert str(db) in err
    assert "schema version" in err
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION - 1
    conn.close()


def test_checking_a_backup_leaves_it_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`db check` on a backup (one self-contained file, no WAL) neither converts nor touches it."""
    db, copy = tmp_path / "vialguard.db", tmp_path / "copy.db"
    _live(db)
    assert main(["db", "backup", "--db", str(db), str(copy)]) == 0
    before = hashlib.sha256(copy.read_bytes()).hexdigest()
    assert main(["db", "check", "--db", str(copy)]) == 0, capsys.readouterr().err
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before
    assert not copy.with_name(copy.name + "-wal").exists()
