"""The uplink's outbox: filled in the writes' own transactions, numbered for good, kept until acknowledged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hardware.clock import ManualClock
from monitor.audit import AuditRow, row_hash
from monitor.config import Settings
from monitor.model.profiles import Catalog
from monitor.store import Database, audit, migrations, outbox, outbox_chain, retention, schema
from monitor.store.backup import backup
from monitor.store.config_mirror import CONFIG_KINDS
from monitor.store.database import transaction
from tests.monitor.test_engine import run_simulation, with_scenario

HOUR = 3600.0


def _door_left_open(settings: Settings) -> Settings:
    return with_scenario(
        settings, kind="door-left-open", start_after_seconds=300, duration_seconds=900, lux=600
    )


def _enable(settings: Settings, site: str = "ward-3") -> None:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    try:
        with transaction(conn):
            outbox.enable(conn, site)
    finally:
        conn.close()


def _source_rows(conn: sqlite3.Connection) -> dict[str, int]:
    def n(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    return {
        "light": n("SELECT count(*) FROM light_readings"),
        "temperature": n("SELECT count(*) FROM temperature_readings"),
        "gap": n("SELECT count(*) FROM gaps"),
        "vial-event": n("SELECT count(*) FROM vial_events"),
        "alert": n("SELECT count(*) FROM alert_events"),
        "audit": n("SELECT count(*) FROM audit_log"),
        "vial-handover": n("SELECT count(*) FROM vial_handovers"),
    }


def _queued(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows queued per kind, the configuration's upserts apart (tests/monitor/test_config_mirror.py)."""
    found = dict(conn.execute("SELECT kind, count(*) FROM uplink_outbox GROUP BY kind").fetchall())
    return {k: v for k, v in found.items() if k not in CONFIG_KINDS}


def test_a_site_without_a_fleet_queues_nothing(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """No uplink state, no outbox rows: a Pi that uplinks nowhere writes nothing more to its card."""
    conn = run_simulation(_door_left_open(settings), catalog, clock, 1200)
    assert _source_rows(conn)["light"] > 0
    assert conn.execute("SELECT count(*) FROM uplink_outbox").fetchone()[0] == 0


def test_every_write_is_queued_once_in_commit_order(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Enabled before the run: one outbox row per reading, gap, vial event, alert change and audit row."""
    _enable(settings)
    conn = run_simulation(_door_left_open(settings), catalog, clock, 1200)
    source = _source_rows(conn)
    assert source["alert"] > 0
    assert source["vial-event"] > 0
    assert _queued(conn) == {k: v for k, v in source.items() if v}
    rows = outbox.pending(conn, 0, 100_000)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    light = next(r for r in rows if r.kind == "light")
    assert light.record is not None
    assert set(light.record) >= {"sensor", "ts", "lux", "cum_lux_hours"}
    alert = next(r for r in rows if r.kind == "alert")
    assert alert.record is not None
    assert alert.record["event_kind"] in {"pending", "fired"}


def test_enabling_back_fills_what_the_database_holds(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A site that joins a fleet later sends its history: the back-fill queues every stored row, and each
    alert as it stands now (its earlier states were never kept)."""
    conn = run_simulation(_door_left_open(settings), catalog, clock, 1200)
    with transaction(conn):
        audit.append(conn, clock.wall(), "tester", "note", "site", {"why": "history"})
        outbox.enable(conn, "ward-3")
    expected = {k: v for k, v in _source_rows(conn).items() if v}
    expected["alert"] = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    assert _queued(conn) == expected


def test_a_rolled_back_write_leaves_no_outbox_row(settings: Settings) -> None:
    """The outbox row commits with the write or not at all: the same transaction."""
    _enable(settings)
    conn = Database(settings.db_path).connect()

    def failing_write() -> None:
        with transaction(conn):
            audit.append(conn, 1.0, "tester", "note", "site", {})
            raise RuntimeError("the write fails after its audit row")

    with pytest.raises(RuntimeError):
        failing_write()
    assert _queued(conn) == {}
    with transaction(conn):
        audit.append(conn, 1.0, "tester", "note", "site", {})
    assert _queued(conn) == {"audit": 1}


def test_acknowledged_rows_go_and_their_numbers_never_return(settings: Settings) -> None:
    """Central's cumulative acknowledgement deletes through its point; later rows are numbered after it,
    even once the outbox is empty; another epoch's acknowledgement deletes nothing."""
    _enable(settings)
    conn = Database(settings.db_path).connect()
    for i in range(3):
        with transaction(conn):
            audit.append(conn, float(i), "tester", "note", "site", {"i": i})
    st = outbox.state(conn)
    assert st is not None
    assert st.epoch is not None
    with transaction(conn):
        assert outbox.acknowledge(conn, "another-epoch", 3, 10.0) == 0
        assert outbox.acknowledge(conn, st.epoch, 3, 10.0) == 3
        assert outbox.acknowledge(conn, st.epoch, 2, 11.0) == 0
    with transaction(conn):
        audit.append(conn, 4.0, "tester", "note", "site", {})
    assert [r.seq for r in outbox.pending(conn, 3, 10)] == [4]
    assert outbox.backlog(conn).rows == 1


def test_retention_keeps_readings_central_has_not_acknowledged(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Downsampling stops at the oldest queued reading; once acknowledged, the readings go as before."""
    _enable(settings)
    conn = run_simulation(settings, catalog, clock, 2 * HOUR)
    before = conn.execute("SELECT count(*) FROM light_readings").fetchone()[0]
    assert retention.downsample(conn, clock.wall() - HOUR) == 0
    assert conn.execute("SELECT count(*) FROM light_readings").fetchone()[0] == before
    st = outbox.state(conn)
    assert st is not None
    assert st.epoch is not None
    with transaction(conn):
        outbox.acknowledge(conn, st.epoch, outbox.last_seq(conn), clock.wall())
    assert retention.downsample(conn, clock.wall() - HOUR) > 0


def test_a_backup_starts_a_new_epoch_when_restored(settings: Settings, tmp_path: Path) -> None:
    """A backup's copy has no epoch, so a restored database never repeats its original's numbers."""
    _enable(settings)
    conn = Database(settings.db_path).connect()
    backup(conn, tmp_path / "copy.db")
    copy = Database(tmp_path / "copy.db").connect()
    copied = outbox.state(copy)
    assert copied is not None
    assert copied.epoch is None
    original = outbox.state(conn)
    assert original is not None
    assert original.epoch is not None


def test_an_audit_row_travels_bit_for_bit(settings: Settings) -> None:
    """The queued copy of an audit row hashes to the row's own hash: its time keeps all 17 digits (SQLite's
    json_object alone keeps 15), so central can verify the chain with the same code."""
    _enable(settings)
    conn = Database(settings.db_path).connect()
    with transaction(conn):
        row = audit.append(conn, 1796175627.6038153, "pharmacist", "note", "fridge-1", {"x": 0.1 + 0.2})
    queued = outbox.pending(conn, 0, 10_000)
    conn.close()
    record = next(r.record for r in queued if r.kind == "audit" and r.record and r.record["id"] == row.id)
    assert record is not None
    copy = AuditRow(**record)
    assert copy == row
    assert row_hash(copy.prev_hash, copy.id, copy.ts, copy.actor, copy.action, copy.subject, copy.detail) == (
        row.hash
    )


def _with_audit_rows(settings: Settings, n: int) -> sqlite3.Connection:
    """An uplinking database with ``n`` audit rows queued."""
    _enable(settings)
    conn = Database(settings.db_path).connect()
    with transaction(conn):
        for i in range(n):
            audit.append(conn, 1796175627.5 + i, "pharmacist", "note", "fridge-1", {"i": i})
    return conn


def test_the_chain_names_the_rows_and_survives_the_acknowledgement(settings: Settings) -> None:
    """Each row's digest extends the one before; the digest at a number is the same whether read with the
    rows or computed later, is kept at the acknowledged point once the rows are deleted, and changes
    when a row under the same number differs (a copy of the database that numbered rows anew)."""
    conn = _with_audit_rows(settings, 6)
    rows = outbox.pending(conn, 0, 10_000)
    assert len(rows) > 3
    assert len({r.digest for r in rows}) == len(rows)
    third = rows[2]
    assert outbox.digest_at(conn, 0, "", third.seq) == third.digest
    assert outbox.digest_at(conn, 0, "", outbox.last_seq(conn) + 1) is None  # never numbered
    assert [r.digest for r in outbox.pending(conn, third.seq, 10_000, third.digest)] == [
        r.digest for r in rows[3:]
    ]
    st = outbox.state(conn)
    assert st is not None
    assert st.epoch is not None
    with transaction(conn):
        outbox.acknowledge(conn, st.epoch, third.seq, 10.0)
    acked = outbox.state(conn)
    assert acked is not None
    assert (acked.acked_seq, acked.acked_digest) == (third.seq, third.digest)
    assert outbox.digest_at(conn, third.seq, acked.acked_digest, rows[-1].seq) == rows[-1].digest
    # The same number, another row: the digest differs from there on.
    with transaction(conn):
        conn.execute("UPDATE uplink_outbox SET queued_ts = queued_ts + 1 WHERE seq = ?", (rows[3].seq,))
    assert outbox.digest_at(conn, third.seq, acked.acked_digest, rows[3].seq) != rows[3].digest
    conn.close()


def test_a_new_epoch_names_its_parent_and_reason_and_goes_on_with_the_chain(settings: Settings) -> None:
    """A new epoch starts after the acknowledged point, remembers the epoch it replaced and why, and keeps
    the digest there: the chain is the database's, not the epoch's."""
    conn = _with_audit_rows(settings, 3)
    first = outbox.state(conn)
    assert first is not None
    assert first.epoch is not None
    assert (first.acked_digest, first.parent_epoch, first.epoch_reason) == ("", None, None)
    at_two = outbox.digest_at(conn, 0, "", 2)
    with transaction(conn):
        outbox.acknowledge(conn, first.epoch, 2, 10.0)
        drawn = outbox.new_epoch(conn, "central's rows are not this database's")
    assert drawn.epoch not in (None, first.epoch)
    assert (drawn.epoch_base_seq, drawn.parent_epoch) == (2, first.epoch)
    assert drawn.epoch_reason == "central's rows are not this database's"
    assert drawn.acked_digest == at_two
    conn.close()


def test_a_database_that_already_uplinks_starts_its_chain_at_the_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 22 on a database that already uplinks: its acknowledged point becomes the chain's
    anchor (''), its rows keep their numbers and epoch, and the chain runs from there."""
    before = migrations.NAMES.index("v22_outbox_chain")
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", before)
    schema.migrate(conn)
    conn.execute(
        "INSERT INTO uplink_state (id, site, epoch, epoch_base_seq, acked_seq) VALUES (1, 'w', 'e1', 0, 5)"
    )
    conn.execute(
        "INSERT INTO uplink_outbox (seq, kind, body, queued_ts) VALUES (6, 'gap-removed', '{}', 1.0)"
    )
    monkeypatch.undo()
    schema.migrate(conn)
    st = outbox.state(conn)
    assert st is not None
    assert (st.epoch, st.acked_seq, st.acked_digest, st.epoch_reason) == ("e1", 5, "", None)
    assert [r.digest for r in outbox.pending(conn, 5, 10)] == [
        outbox_chain.chain("", 6, "gap-removed", None, None, "{}", 1.0)
    ]
    conn.close()
