"""`vialguard db check` and `vialguard db backup` on a real database file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from hardware.clock import ManualClock
from monitor.config import Settings
from monitor.model.profiles import Catalog
from tests.monitor.test_engine import run_simulation
from vialguard.cli import main


@pytest.fixture
def db(settings: Settings, catalog: Catalog, clock: ManualClock) -> Path:
    run_simulation(settings, catalog, clock, 300.0).close()
    return settings.db_path


def test_check_passes_on_a_sound_database(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 0, each ledger reported ok."""
    assert main(["db", "check", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "integrity: ok" in out
    assert "ledger fridge-1-lux:" in out
    assert "check passed" in out


def test_check_fails_on_a_tampered_ledger(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 1 with a message naming the sensor whose ledger is wrong."""
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE light_readings SET cum_lux_hours = cum_lux_hours + 1")
    assert main(["db", "check", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "check FAILED" in err
    assert "fridge-1-lux" in err


def test_check_fails_on_a_file_that_is_not_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Garbage where the database should be: a non-zero exit and a message, no traceback."""
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 512)
    assert main(["db", "check", "--db", str(bad)]) != 0
    assert "not a database" in capsys.readouterr().err


def test_check_of_a_missing_file_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path with no database is an error naming the path; nothing is created there."""
    missing = tmp_path / "none.db"
    assert main(["db", "check", "--db", str(missing)]) == 2
    assert f"no database at {missing}" in capsys.readouterr().err
    assert not missing.exists()


def test_backup_is_a_sound_copy(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The backup holds the same readings, passes the check, and is one file (no WAL beside it)."""
    dest = tmp_path / "copy.db"
    assert main(["db", "backup", "--db", str(db), str(dest)]) == 0
    assert "integrity ok" in capsys.readouterr().out
    assert not Path(f"{dest}-wal").exists()
    with closing(sqlite3.connect(db)) as a, closing(sqlite3.connect(dest)) as b:
        q = "SELECT COUNT(*), SUM(cum_lux_hours) FROM light_readings"
        assert a.execute(q).fetchone() == b.execute(q).fetchone()
    assert main(["db", "check", "--db", str(dest)]) == 0


def test_backup_to_a_missing_folder_names_it(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A destination folder that does not exist: exit 2 naming it, no partial file left."""
    dest = tmp_path / "nowhere" / "copy.db"
    assert main(["db", "backup", "--db", str(db), str(dest)]) == 2
    assert "nowhere" in capsys.readouterr().err
