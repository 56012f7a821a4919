"""API pages on the real app: the dashboard after a year against a day, and an alert page of 500.

Each page is asked of vialguard's app on uvicorn at an ephemeral loopback port, as ``vialguard api``
serves it, by one keep-alive HTTP client.

- ``GET /api/v1/dashboard`` with 1,000 vials (every vial's verdict and the locations' glance) on the
  :mod:`bench.history` site after a year, against the same after a day. Target: at most 1.5x; under 0.3 s.
- ``GET /api/v1/alerts?limit=500`` with 500 alerts in the store, against a bare endpoint mounted on the
  same app returning the very same JSON bytes: the ratio is what reading and shaping the page costs.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Response

from api.startup import sqlite_app
from bench import history
from bench.harness import Figure, figure, median_time
from hardware.clock import ManualClock
from monitor.model.profiles import Catalog, load_catalog
from monitor.store import Database, sites
from monitor.store import alerts as alert_store
from monitor.store.database import transaction

ALERTS = 500


@contextmanager
def _serve(app: FastAPI) -> Iterator[httpx.Client]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 30 s")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _app(path: Path, now: float) -> FastAPI:
    return sqlite_app(history.settings_for(path), ManualClock(now))


def _alternating(calls: list[Callable[[], object]], repeats: int) -> list[float]:
    """Median wall time of each call, the calls alternating so that a neighbour's load on a shared
    machine falls on every side of a ratio alike."""
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for i, call in enumerate(calls):
            times[i].append(median_time(call, 1))
    return [statistics.median(t) for t in times]


def _dashboards(catalog: Catalog, days: tuple[float, float], vials: int, repeats: int) -> list[float]:
    with ExitStack() as stack:
        clients = []
        for d in days:
            path, now = history.shared_site(catalog, d, vials)
            client = stack.enter_context(_serve(_app(path, now)))
            assert client.get("/api/v1/dashboard").status_code == 200  # warm
            clients.append(client)
        return _alternating([partial(c.get, "/api/v1/dashboard") for c in clients], repeats)


def _with_alerts(catalog: Catalog) -> tuple[Path, float]:
    path, now = history.shared_site(catalog, 1.0, 10)
    conn = Database(path).connect()
    try:
        fridge = sites.location_by_key(conn, "fridge-1").id
        with transaction(conn):
            if alert_store.latest_seq(conn) < ALERTS:
                for i in range(ALERTS):
                    alert_store.fire(
                        conn,
                        alert_store.NewAlert(
                            fingerprint=f"bench-{i}",
                            rule="light_high",
                            severity="warning",
                            location_id=fridge,
                            vial_id=None,
                            sensor_id=None,
                            started_ts=now - 3600 + i,
                            fired_ts=now - 3600 + i,
                            value=800.0,
                            message=f"Pharmacy fridge 1: light 800 lx above 500 lx for over 5 min ({i})",
                        ),
                    )
    finally:
        conn.close()
    return path, now


def run(smoke: bool) -> list[Figure]:
    catalog = load_catalog()
    long_days = 2.0 if smoke else 365.0
    many = 10 if smoke else 1_000
    repeats = 1 if smoke else 15
    span = "a year" if not smoke else f"{long_days:g} days"
    dash_long, dash_day = _dashboards(catalog, (long_days, 1.0), many, repeats)
    path, now = _with_alerts(catalog)
    app = _app(path, now)
    body = b""

    @app.get("/bench/same-json")
    async def same_json() -> Response:
        return Response(body, media_type="application/json")

    with _serve(app) as client:
        page = client.get("/api/v1/alerts", params={"limit": ALERTS})
        assert page.status_code == 200
        assert len(page.json()["alerts"]) == ALERTS
        body = page.content
        assert client.get("/bench/same-json").content == body

        ours, bare = _alternating(
            [
                partial(client.get, "/api/v1/alerts", params={"limit": ALERTS}),
                partial(client.get, "/bench/same-json"),
            ],
            repeats * 3,
        )
    return [
        figure(
            f"API: /api/v1/dashboard, {many} vials, after {span} of 1 Hz history",
            dash_long,
            dash_day,
            "the same after 1 day",
            "s",
            "at most 1.5x the day; under 0.3 s",
            dash_long <= 1.5 * dash_day and dash_long < 0.3,
        ),
        figure(
            f"API: alert page of {ALERTS} alerts",
            ours,
            bare,
            "bare endpoint on the same app returning the same JSON",
            "s",
            "at most 3x (reading and shaping the page)",
            ours <= 3 * bare,
        ),
    ]
