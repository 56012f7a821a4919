"""The API application factory: ``create_app(settings, clock)``.

Handlers are plain ``def`` functions: FastAPI runs them in its thread pool, so SQLite's blocking calls never
run on the event loop. Errors are JSON ``{"error": ..., "message": ...}`` whose message names the problem.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.conditional import NotModified
from api.deps import AppState
from api.routes import alerts, dashboard, health, profiles, reports, series, silences, sites, vials
from hardware.clock import Clock, SystemClock
from monitor.config import Settings
from monitor.errors import InvalidRequest, NotFound, StoreError, VialguardError
from monitor.profiles import load_catalog
from monitor.store import Database

_STATUS: tuple[tuple[type[VialguardError], int, str], ...] = (
    (NotFound, 404, "not found"),
    (InvalidRequest, 422, "invalid request"),
    (StoreError, 503, "storage unavailable"),
)


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "message": message})


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    database = Database(settings.db_path)
    database.initialise()
    state = AppState(
        settings=settings,
        database=database,
        catalog=load_catalog(settings.drug_profiles_file),
        clock=clock or SystemClock(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="vialguard",
        summary="Light-exposure and temperature stability monitor for light-sensitive drug vials",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.vialguard = state
    for router in (
        health.router,
        alerts.router,
        silences.router,
        vials.router,
        sites.router,
        series.router,
        reports.router,
        dashboard.router,
        profiles.router,
    ):
        app.include_router(router)
    app.add_middleware(NotModified, state=state, paths={"/api/v1/alerts": alerts.list_etag})

    @app.exception_handler(VialguardError)
    async def domain_error(request: Request, exc: VialguardError) -> JSONResponse:
        for kind, status, name in _STATUS:
            if isinstance(exc, kind):
                return _error(status, name, str(exc))
        return _error(500, "internal error", str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()))
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        return _error(422, "invalid request", "; ".join(problems) or "invalid request")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, "http error", str(exc.detail))

    return app
