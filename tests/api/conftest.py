"""A real uvicorn server on an ephemeral loopback port, serving a real SQLite file."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.startup import sqlite_pool
from hardware.clock import ManualClock
from monitor.config import Settings, parse_settings
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store import tokens as token_store
from monitor.store.database import transaction
from monitor.store.sqlite_pool import SqlitePool
from monitor.tokens import SCOPES
from tests.conftest import simulated_raw

# One TLS context for every test client: httpx would build one per client, loading the CA bundle (about
# 30 ms of CPU, two clients per server), for clients that speak plain HTTP to loopback.
TLS = ssl.create_default_context()


@dataclass
class Served:
    client: httpx.Client  # no token: reads are anonymous on a loopback-only server
    writer: httpx.Client  # the same server with a write token
    settings: Settings
    clock: ManualClock
    database: Database
    app: FastAPI
    stores: SqlitePool  # the app's store: its pool of connections to the database
    tokens: dict[str, str]  # a token per scope: read, write, admin

    def auth(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}


@contextmanager
def serve(settings: Settings, clock: ManualClock, *, log_everything: bool = False) -> Iterator[Served]:
    """The API of ``settings`` on uvicorn at an ephemeral 127.0.0.1 port, with a token of each scope.

    ``log_everything``: uvicorn leaves logging alone, so its access and error records reach the root
    logger (and pytest's caplog) at every level.
    """
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, clock.wall())
    with transaction(conn):
        tokens = {
            scope: token_store.create(conn, f"test-{scope}", scope, clock.wall())[1] for scope in SCOPES
        }
    conn.close()
    stores = sqlite_pool(settings)
    app = create_app(settings, stores, clock)
    logs: dict[str, object] = {"log_config": None, "log_level": "debug"} if log_everything else {}
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", **{"log_level": "warning", **logs})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    write = {"Authorization": f"Bearer {tokens['write']}"}
    try:
        with (
            httpx.Client(base_url=base, timeout=10, verify=TLS) as client,
            httpx.Client(base_url=base, timeout=10, headers=write, verify=TLS) as writer,
        ):
            yield Served(client, writer, settings, clock, db, app, stores, tokens)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(settings: Settings, clock: ManualClock) -> Iterator[Served]:
    with serve(settings, clock) as s:
        yield s


@pytest.fixture(scope="module")
def shared_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The site ``served`` gives, started once for a module's tests that change nothing on it: reads, and
    writes the API refuses (each such test asserts the refusal, so the next test finds the same site).
    A test that writes, or moves the clock, takes ``served``."""
    db = tmp_path_factory.mktemp("shared-served") / "vialguard.db"
    with serve(parse_settings(simulated_raw(), "simulated.toml", {"db_path": db}), ManualClock()) as s:
        yield s
