"""A site's audit trail reaches central's PostgreSQL verbatim and verified; a rewritten chain is refused
there, kept apart, and reported in ``GET /api/v1/sites``, never stored as if it were the site's."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg

from fleet.central.api import list_sites
from fleet.central.ingest import ingest
from fleet.central.partitions import Partitions
from fleet.central.schema import migrate
from fleet.protocol import Batch, Row
from monitor.store import Database
from monitor.store import audit as audit_store
from monitor.store import outbox as outbox_store
from monitor.store.database import transaction

SITE = "ward-3"


def _site(tmp_path: Path) -> sqlite3.Connection:
    db = Database(tmp_path / "site.db")
    db.initialise()
    conn = db.connect()
    with transaction(conn):
        outbox_store.enable(conn, SITE)
    return conn


def _note(conn: sqlite3.Connection, n: int, actor: str = "pharmacist") -> None:
    with transaction(conn):
        for i in range(n):
            audit_store.append(conn, 1796175627.6038153 + i, actor, "note", "fridge-1", {"i": i})


def _send(site: sqlite3.Connection, pg: psycopg.Connection[tuple[Any, ...]], after: int = 0) -> int:
    """Everything the site's outbox holds after ``after``, as one batch through central's ingest."""
    state = outbox_store.state(site)
    assert state is not None
    assert state.epoch is not None
    rows = outbox_store.pending(site, after, 100_000)
    batch = Batch(
        SITE,
        state.epoch,
        state.epoch_base_seq,
        tuple(Row(r.seq, r.kind, r.record) for r in rows),
        1796175700.0,
        outbox_store.last_seq(site),
        None,
    )
    done = ingest(pg, Partitions(), batch, 1796175700.5)
    with transaction(site):
        outbox_store.acknowledge(site, state.epoch, done.ack.through, 1796175700.5)
    return done.ack.through


def _audit_of_site(url: str) -> dict[str, Any]:
    """The site's ``audit`` in what ``GET /api/v1/sites`` answers (its handler, on its own connection)."""
    with psycopg.connect(url) as conn:
        sites = list_sites(conn)["sites"]
    return dict({s["site"]: s["audit"] for s in sites}[SITE])


def test_the_chain_is_mirrored_verbatim_and_its_head_pinned(tmp_path: Path, postgres: str) -> None:
    """Central stores every audit row as the site wrote it, and pins the same head the site's check
    finds."""
    site = _site(tmp_path)
    _note(site, 5)
    with psycopg.connect(postgres) as pg:
        migrate(pg)
        _send(site, pg)
        stored = pg.execute(
            "SELECT record FROM site_records WHERE site = %s AND kind = 'audit' ORDER BY seq", (SITE,)
        ).fetchall()
    check = audit_store.check(site)
    assert [r[0] for r in stored] == [asdict(r) for r in audit_store.entries(site)]  # verbatim
    audit = _audit_of_site(postgres)
    assert audit == {
        "rows": check.rows,
        "head_id": 5,
        "head_hash": check.head_hash,
        "intact": True,
        "problem": None,
        "refused": 0,
    }


def test_a_rewritten_chain_is_refused_and_reported(tmp_path: Path, postgres: str) -> None:
    """The site's rows rewritten from row 2 on and re-hashed (intact to the site's own check) are
    refused at central, which keeps its pinned head and reports the break; later rows are refused too."""
    site = _site(tmp_path)
    _note(site, 3)
    with psycopg.connect(postgres) as pg:
        migrate(pg)
        through = _send(site, pg)
        pinned = _audit_of_site(postgres)["head_hash"]
        with transaction(site):  # the forger deletes rows 2 and 3 and writes them again, re-chained
            site.execute("DELETE FROM audit_log WHERE id >= 2")
            site.execute("UPDATE sqlite_sequence SET seq = 1 WHERE name = 'audit_log'")
        _note(site, 2, actor="forger")
        assert audit_store.check(site).intact  # the site alone cannot tell
        _note(site, 1)
        _send(site, pg, through)
        stored = pg.execute(
            "SELECT count(*) FROM site_records WHERE site = %s AND kind = 'audit'", (SITE,)
        ).fetchone()
        refused = pg.execute(
            "SELECT row_id, record->>'actor' FROM audit_refusals WHERE site = %s ORDER BY seq", (SITE,)
        ).fetchall()
    assert stored == (3,)
    assert refused == [(2, "forger"), (3, "forger"), (4, "pharmacist")]
    audit = _audit_of_site(postgres)
    assert audit["head_id"] == 3
    assert audit["head_hash"] == pinned
    assert audit["intact"] is False
    assert "row 2: central holds another version" in audit["problem"]
    assert audit["refused"] == 3
