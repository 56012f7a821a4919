"""The store interface on SQLite: it matches the interface, and no SQLite error crosses it."""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path

import pytest

from monitor.errors import IntegrityViolation, NotFound, StoreFault, StoreUnavailable
from monitor.store import Database
from monitor.store.ports import Store, StorePool
from monitor.store.sqlite_pool import SqlitePool
from monitor.store.sqlite_store import SqliteStore


def _public(cls: type) -> set[str]:
    return {n for n, m in inspect.getmembers(cls) if not n.startswith("_") and callable(m)}


@pytest.fixture
def pool(tmp_path: Path) -> SqlitePool:
    db = Database(tmp_path / "v.db")
    db.initialise()
    return SqlitePool(db)


def test_the_sqlite_store_implements_every_method_of_the_interface_and_no_other() -> None:
    """SqliteStore and SqlitePool have exactly the public methods of Store and StorePool."""
    assert _public(SqliteStore) == _public(Store)
    assert {"session", "close"} <= _public(SqlitePool)


def test_every_public_method_translates_sqlite_errors() -> None:
    """Each public method of SqliteStore runs inside the translation: none can let sqlite3.Error out."""
    unwrapped = [n for n in _public(SqliteStore) if not hasattr(getattr(SqliteStore, n), "__wrapped__")]
    assert unwrapped == []


def test_a_locked_database_is_store_unavailable_naming_the_lock(pool: SqlitePool) -> None:
    """Another writer holding the lock past the wait: StoreUnavailable saying so, not sqlite3.Error."""
    blocker = sqlite3.connect(pool.database.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pool.connection() as conn:
            conn.execute("PRAGMA busy_timeout = 0")
        with pool.session() as store, pytest.raises(StoreUnavailable, match="locked"), store.transaction():
            pass  # pragma: no cover - BEGIN IMMEDIATE fails
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def test_a_broken_constraint_is_an_integrity_violation(pool: SqlitePool) -> None:
    """A write the schema refuses leaves as IntegrityViolation, a StoreFault, with SQLite's message."""
    with pool.connection() as conn:
        conn.execute("PRAGMA foreign_keys = ON")
    with pool.session() as store, store.transaction(), pytest.raises(IntegrityViolation) as caught:
        store.register_vial(
            key="v-1",
            drug="cyanocobalamin",
            form="infusion",
            lot="L1",
            expiry=None,
            initial_potency_percent=100.0,
            location_id=999,  # no such location
            packaging="in-carton",
            ts=0.0,
            recorded_ts=0.0,
        )
    assert str(caught.value).startswith("database error: ")
    assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)


def test_any_other_sqlite_error_is_a_store_fault(pool: SqlitePool) -> None:
    """A closed connection (a bug, not the machine's state) is a StoreFault, not StoreUnavailable."""
    conn = pool.database.connect()
    conn.close()
    with pytest.raises(StoreFault, match="database error") as caught:
        SqliteStore(conn).vials()
    assert not isinstance(caught.value, StoreUnavailable)


def test_domain_errors_pass_through_unchanged(pool: SqlitePool) -> None:
    """NotFound from the query functions reaches the caller as it was raised."""
    with pool.session() as store, pytest.raises(NotFound, match="no vial with id 7"):
        store.vial(7)


def test_sessions_are_lent_one_caller_at_a_time(pool: SqlitePool) -> None:
    """Two sessions held at once use two connections; a returned one is lent again, its read ended."""
    pools: StorePool = pool
    with pools.session() as a, pools.session() as b:
        assert isinstance(a, SqliteStore)
        assert isinstance(b, SqliteStore)
        assert a.conn is not b.conn
        a.conn.execute("BEGIN")
        b.conn.execute("BEGIN")
        lent = {id(a.conn), id(b.conn)}
    with pools.session() as c:
        assert isinstance(c, SqliteStore)
        assert id(c.conn) in lent
        assert not c.conn.in_transaction
    pool.close()
