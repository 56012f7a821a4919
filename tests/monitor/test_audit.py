"""The audit trail: a hash chain in which any edited or deleted row is found and named."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.audit import GENESIS_HASH, AuditRow, canonical, row_hash, verify
from monitor.config import Settings
from monitor.config_audit import record_config
from monitor.store import Database
from monitor.store import audit as audit_store
from monitor.store.database import transaction
from vialguard.cli import main


def _append_rows(conn: sqlite3.Connection, n: int) -> list[AuditRow]:
    with transaction(conn):
        return [
            audit_store.append(
                conn, 1_700_000_000.0 + i, "token:nurse", "alert.acknowledged", f"alert:{i}", {"n": i}
            )
            for i in range(n)
        ]


@pytest.fixture
def conn(settings: Settings) -> Iterator[sqlite3.Connection]:
    database = Database(settings.db_path)
    database.initialise()
    c = database.connect()
    yield c
    c.close()


def test_an_untouched_chain_is_intact(conn: sqlite3.Connection) -> None:
    """Rows appended by the store verify, and each row's prev_hash is the row before's hash."""
    rows = _append_rows(conn, 5)
    result = audit_store.check(conn)
    assert result.intact, result.problems
    assert result.rows == 5
    assert result.head_hash == rows[-1].hash
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]


@pytest.mark.parametrize(
    ("tamper", "found"),
    [
        (
            "UPDATE audit_log SET detail = '{\"n\":99}' WHERE id = 3",
            "row 3: its contents do not match its hash",
        ),
        (
            "UPDATE audit_log SET actor = 'token:other' WHERE id = 1",
            "row 1: its contents do not match its hash",
        ),
        ("UPDATE audit_log SET ts = ts + 1 WHERE id = 5", "row 5: its contents do not match its hash"),
        ("DELETE FROM audit_log WHERE id = 2", "rows 2-2 are missing (deleted)"),
        ("DELETE FROM audit_log WHERE id = 5", "rows 5-5 are missing at the end (deleted)"),
        ("DELETE FROM audit_log WHERE id >= 4", "rows 4-5 are missing at the end (deleted)"),
    ],
    ids=["edit-detail", "edit-actor", "edit-time", "delete-middle", "delete-last", "delete-tail"],
)
def test_tampering_is_found_and_named(conn: sqlite3.Connection, tamper: str, found: str) -> None:
    """An edited field or a deleted row (first, middle or last) is named by the check."""
    _append_rows(conn, 5)
    conn.execute(tamper)
    result = audit_store.check(conn)
    assert not result.intact
    assert any(found in p for p in result.problems), result.problems


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(conn: sqlite3.Connection) -> None:
    """Re-hashing an edited row does not help: the next row no longer follows it."""
    rows = _append_rows(conn, 3)
    forged = replace(rows[1], detail='{"n":42}')
    digest = row_hash(
        forged.prev_hash, 2, forged.ts, forged.actor, forged.action, forged.subject, forged.detail
    )
    conn.execute("UPDATE audit_log SET detail = ?, hash = ? WHERE id = 2", (forged.detail, digest))
    problems = audit_store.check(conn).problems
    assert problems == ("row 3: does not follow the row before it (prev_hash differs)",)


@given(
    n=st.integers(min_value=1, max_value=8),
    data=st.data(),
)
def test_any_single_field_edit_is_found(n: int, data: st.DataObject) -> None:
    """Changing any one field of any one row of a valid chain makes the check fail."""
    rows: list[AuditRow] = []
    prev = GENESIS_HASH
    for i in range(1, n + 1):
        detail = canonical({"i": i})
        digest = row_hash(prev, i, float(i), "a", "x", "s", detail)
        rows.append(AuditRow(i, float(i), "a", "x", "s", detail, prev, digest))
        prev = digest
    assert verify(rows, n).intact
    victim = data.draw(st.integers(min_value=0, max_value=n - 1))
    field = data.draw(st.sampled_from(["ts", "actor", "action", "subject", "detail", "prev_hash", "hash"]))
    value: object = rows[victim].ts + 0.5 if field == "ts" else getattr(rows[victim], field) + "!"
    rows[victim] = replace(rows[victim], **{field: value})
    assert not verify(rows, n).intact


def test_append_outside_a_transaction_is_refused(conn: sqlite3.Connection) -> None:
    """A row must commit with the change it records, so appending outside a write transaction fails."""
    with pytest.raises(RuntimeError, match="inside the write transaction"):
        audit_store.append(conn, 0.0, "a", "x", "s", {})


def test_config_changes_are_recorded_once_per_change(conn: sqlite3.Connection, settings: Settings) -> None:
    """The same settings again add no row; a changed rule adds one naming the section."""
    with transaction(conn):
        assert record_config(conn, settings, 1.0, "system:bridge")
        assert not record_config(conn, settings, 2.0, "system:bridge")
        rules = settings.rules.model_copy(update={"light_lux": 20.0})
        assert record_config(conn, settings.model_copy(update={"rules": rules}), 3.0, "system:bridge")
    rows = audit_store.entries(conn)
    assert [r.action for r in rows] == ["config.changed", "config.changed"]
    assert '"changed":["rules"]' in rows[1].detail


def test_audit_verify_command_exits_1_naming_the_tampered_row(
    conn: sqlite3.Connection, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vialguard audit verify` says intact with the head hash, then exit 1 naming an edited row."""
    rows = _append_rows(conn, 4)
    db = ["--simulate", "--db", str(settings.db_path)]
    assert main(["audit", "verify", *db]) == 0
    assert f"intact: 4 rows, head {rows[-1].hash}" in capsys.readouterr().out
    assert main(["audit", "verify", *db, "--expect-head", rows[1].hash]) == 0
    conn.execute("UPDATE audit_log SET subject = 'alert:999' WHERE id = 2")
    assert main(["audit", "verify", *db]) == 1
    out = capsys.readouterr()
    assert "TAMPERED: row 2: its contents do not match its hash (edited)" in out.err
    assert "NOT intact" in out.out
    assert main(["audit", "verify", *db, "--expect-head", "f" * 64]) == 1
