"""Central's HTTP routes: the fleet's sites and its alert feed, read from PostgreSQL.

Beside them, under ``/sites/{site}/``, each site's own API over central's copy of the site
(:mod:`fleet.central.site_apps`): the same application a Pi serves, needing central's operator tokens.
Handlers are plain functions (FastAPI runs them in its thread pool): psycopg's calls block and must stay
off the event loop.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query

from fleet.central import command_routes, fleet_routes, operator_auth, queries
from fleet.central.connection import Conn
from fleet.central.fleet_view import SiteFacts, site_clock
from fleet.central.site_apps import SiteApi, SiteApps
from monitor.model.profiles import Catalog, load_catalog

router = APIRouter(prefix="/api/v1")


@router.get("/sites")
def list_sites(conn: Conn) -> dict[str, Any]:
    """Every site: readings stored here, central's acknowledged point, backlog, last seen, skew, online,
    its epochs (each new one with the site's reason) and when it was last put back or restored."""
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


def create_central_app(
    database_url: str,
    catalog: Catalog | None = None,
    clock: Callable[[], float] = time.time,
    wake_publisher: Callable[[str], None] | None = None,
    *,
    site_api: SiteApi | None = None,
    allowed_hosts: Sequence[str] = (),
    sites_clock: Callable[[SiteFacts, float], float] = site_clock,
    anonymous_page: bool = False,
) -> FastAPI:
    """Central's API over ``database_url``; ``catalog`` (default: the shipped profiles) is what the
    fleet's vials are evaluated with, ``clock`` central's own, ``wake_publisher(site)`` is told when a
    command for the site was made (central's publisher sends it). With ``site_api``
    (:class:`vialguard.central_sites.CentralSiteApi`), each site's own API under ``/sites/{site}/``:
    ``allowed_hosts`` are the names, besides IP addresses and loopback, it answers to,
    ``sites_clock(facts, central_now)`` a site's clock (default: central's, less the site's skew).
    Every route but ``/healthz`` needs an operator token (:mod:`fleet.central.operator_auth`); with
    ``anonymous_page`` (central listens on loopback alone) the ``/fleet`` page needs none."""
    chosen = load_catalog() if catalog is None else catalog
    sites = (
        None
        if site_api is None
        else SiteApps(database_url, site_api, chosen, clock, allowed_hosts, sites_clock)
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if sites is not None:
            sites.close()

    app = FastAPI(title="vialguard central", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.database_url = database_url
    app.state.catalog = chosen
    app.state.clock = clock
    app.state.wake_publisher = wake_publisher or (lambda site: None)
    app.state.anonymous_page = anonymous_page
    reads = [Depends(operator_auth.read_token)]
    app.include_router(router, dependencies=reads)
    app.include_router(fleet_routes.router, dependencies=reads)
    app.include_router(fleet_routes.page_router)
    app.include_router(command_routes.router)  # each route checks its own scope
    if sites is not None:
        app.mount("/sites/{site}", sites)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
