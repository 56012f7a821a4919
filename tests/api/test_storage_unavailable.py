"""The database unavailable (full, read-only, locked): a JSON 503 with the reason, never a plain-text 500."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.api.conftest import Served
from tests.api.test_edge_values import _vial_id

_EVENT = {"kind": "packaging-changed", "packaging": "in-carton", "detail": "x" * 500}


def _every_pooled_connection(served: Served, pragma: Callable[[sqlite3.Connection], str]) -> None:
    """Run a pragma on every connection the API's pool holds (and more than a test can use)."""
    held = [served.stores.acquire() for _ in range(64)]
    for conn in held:
        conn.execute(pragma(conn))
    for conn in held:
        served.stores.release(conn)


def _pages(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA page_count").fetchone()[0])


@contextmanager
def _full(served: Served) -> Iterator[None]:
    # SQLite's own "database or disk is full" (SQLITE_FULL), as on a full SD card: no more pages.
    _every_pooled_connection(served, lambda conn: f"PRAGMA max_page_count = {_pages(conn)}")
    yield


@contextmanager
def _read_only(served: Served) -> Iterator[None]:
    # SQLite's "attempt to write a readonly database" (SQLITE_READONLY), as on a file system remounted
    # read-only; tests run as root, so file permissions would not refuse the write.
    _every_pooled_connection(served, lambda conn: "PRAGMA query_only = 1")
    yield


@contextmanager
def _locked(served: Served) -> Iterator[None]:
    # Another process holds the write lock past the API's wait (shortened here from 10 s to none).
    _every_pooled_connection(served, lambda conn: "PRAGMA busy_timeout = 0")
    blocker = sqlite3.connect(served.settings.db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


CONDITIONS: dict[str, tuple[Callable[[Served], Any], str]] = {
    "full": (_full, "full"),
    "read-only": (_read_only, "read-only"),
    "locked": (_locked, "locked"),
}


@pytest.mark.parametrize("condition", CONDITIONS)
def test_an_unavailable_database_is_a_json_503_with_a_reason(served: Served, condition: str) -> None:
    """Writes to a full, read-only or locked database answer a JSON 503 naming why; reads still work."""
    make, reason = CONDITIONS[condition]
    vial = _vial_id(served)
    with make(served):
        # A full database may still fit a write or two in its last free page.
        for _ in range(20):
            r = served.writer.post(f"/api/v1/vials/{vial}/events", json=_EVENT)
            if r.status_code != 201:
                break
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json"  # RFC 9457, as every error
        assert r.json()["error"] == "storage unavailable"
        assert reason in r.json()["message"]
        assert r.headers["retry-after"]
        assert served.client.get("/api/v1/vials").status_code == 200
