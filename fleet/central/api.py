"""Central's HTTP routes: the fleet's sites and its alert feed, read from PostgreSQL.

A router of its own, so that it can join the main application once that application reads through a
store interface; until then :func:`create_central_app` serves it alone. Handlers are plain functions
(FastAPI runs them in its thread pool): psycopg's calls block and must stay off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request

from fleet.central import command_routes, queries

router = APIRouter(prefix="/api/v1")


def _connection(request: Request) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    try:
        conn = psycopg.connect(request.app.state.database_url, connect_timeout=5)
    except psycopg.Error as exc:
        raise HTTPException(503, f"central's database is unavailable: {exc}") from exc
    try:
        yield conn
    finally:
        conn.close()


Conn = Annotated[psycopg.Connection[tuple[Any, ...]], Depends(_connection)]


@router.get("/sites")
def list_sites(conn: Conn) -> dict[str, Any]:
    """Every site: readings stored here, central's acknowledged point, backlog, last seen, skew, online."""
    items = []
    for s in queries.sites(conn):
        item = asdict(s)
        item["acknowledged"] = {"epoch": item.pop("epoch"), "through": item.pop("acknowledged_through")}
        items.append(item)
    return {"sites": items}


@router.get("/fleet/alerts")
def alert_feed(
    conn: Conn,
    after: Annotated[int, Query(ge=0, description="the cursor of the last change already read")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Alert changes from every site after ``after``, in order; ``cursor`` is where to continue from."""
    changes = queries.alert_changes(conn, after, limit)
    return {
        "changes": [asdict(c) for c in changes],
        "cursor": changes[-1].cursor if changes else after,
    }


def create_central_app(database_url: str, wake_publisher: Callable[[str], None] | None = None) -> FastAPI:
    """``wake_publisher(site)``: a command for the site was made (central's publisher sends it)."""
    app = FastAPI(title="vialguard central", docs_url=None, redoc_url=None)
    app.state.database_url = database_url
    app.state.wake_publisher = wake_publisher or (lambda site: None)
    app.include_router(router)
    app.include_router(command_routes.router)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
