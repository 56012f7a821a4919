"""A real uvicorn server on an ephemeral loopback port, serving a real SQLite file."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from hardware.clock import ManualClock
from monitor.config import Settings
from monitor.site_sync import sync_site
from monitor.store import Database


@dataclass
class Served:
    client: httpx.Client
    settings: Settings
    clock: ManualClock
    database: Database
    app: FastAPI


@pytest.fixture
def served(settings: Settings, clock: ManualClock) -> Iterator[Served]:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, clock.wall())
    conn.close()
    app = create_app(settings, clock)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield Served(client, settings, clock, db, app)
    server.should_exit = True
    thread.join(timeout=10)
