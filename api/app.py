"""The API application factory: ``create_app(settings, stores, clock)``, over any store that implements
:mod:`monitor.store.ports` (:mod:`api.startup` builds the SQLite one).

Handlers are plain ``def`` functions: FastAPI runs them in its thread pool, so the store's blocking calls
never run on the event loop. Errors are RFC 9457 problem details (:mod:`api.problems`) whose detail names the
problem; the OpenAPI document says so per route (:mod:`api.openapi`). ``/docs`` and ``/redoc`` are served
from this machine (:mod:`api.routes.docs`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api import metrics, openapi, system_watch
from api.auth import anonymous_reads, caller
from api.conditional import NotModified
from api.deps import AppState
from api.edge import Edge, allowed_names, bind_warning
from api.limits import BodyLimit
from api.problems import phrase, problem_response
from api.routes import (
    alerts,
    audit,
    dashboard,
    docs,
    health,
    profiles,
    reports,
    serial_devices,
    series,
    silences,
    sites,
    system_events,
    tokens,
    vials,
)
from hardware.clock import Clock, SystemClock
from monitor.config import Settings
from monitor.errors import (
    Forbidden,
    InvalidRequest,
    NotFound,
    StoreError,
    StoreFault,
    StoreUnavailable,
    Unauthorized,
    VialguardError,
)
from monitor.model.profiles import load_catalog
from monitor.store.ports import StorePool
from monitor.version import version

log = logging.getLogger(__name__)

_STATUS: tuple[tuple[type[VialguardError], int, str], ...] = (
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not found"),
    (InvalidRequest, 422, "invalid request"),
    (StoreError, 503, "storage unavailable"),
)


def _error(status: int, error: str, message: str) -> JSONResponse:
    return problem_response(status, error, message)


def create_app(
    settings: Settings, stores: StorePool, clock: Clock | None = None, *, watch_system: bool = True
) -> FastAPI:
    """The API over ``stores``, which it closes when it stops. ``watch_system=False`` runs no system checks
    (:mod:`api.system_watch`): for a store that mirrors a site elsewhere and must not write its alerts."""
    state = AppState(
        settings=settings,
        stores=stores,
        catalog=load_catalog(settings.drug_profiles_file),
        clock=clock or SystemClock(),
    )
    with state.session() as store:  # token expiry resumes from the real time the system last saw
        mark = store.real_high_water()
    if mark is not None:
        state.expiry_clock.raise_floor(mark, time.monotonic())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        checks = asyncio.create_task(system_watch.watch(state)) if watch_system else None
        yield
        if checks is not None:
            checks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checks
        state.close()

    app = FastAPI(
        title="vialguard",
        summary="Light-exposure and temperature stability monitor for light-sensitive drug vials",
        version=version(),
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load from a CDN: ours are served from here (api.routes.docs)
        redoc_url=None,
        generate_unique_id_function=openapi.operation_id,
    )
    openapi.install(app, anonymous_reads(state))
    app.state.vialguard = state
    app.state.metrics = metrics.registry_for(state)
    # The health check and the dashboard's page and assets are open; its data route checks the caller.
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(dashboard.router)
    app.include_router(metrics.router)  # checks the caller itself: a read
    for router in (
        alerts.router,
        silences.router,
        vials.router,
        sites.router,
        series.router,
        reports.router,
        profiles.router,
        serial_devices.router,
        system_events.router,
        audit.router,
        tokens.router,
    ):
        app.include_router(router, dependencies=[Depends(caller)])
    app.add_middleware(NotModified, state=state, paths={"/api/v1/alerts": alerts.list_etag})
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_request_bytes)
    app.add_middleware(Edge, names=allowed_names(settings.api))  # outermost: an unknown Host goes no further
    if (warning := bind_warning(settings.api)) is not None:
        log.warning("%s", warning)

    @app.exception_handler(VialguardError)
    async def domain_error(request: Request, exc: VialguardError) -> JSONResponse:
        for kind, status, name in _STATUS:
            if isinstance(exc, kind):
                response = _error(status, name, str(exc))
                if status == 401:
                    response.headers["WWW-Authenticate"] = "Bearer"
                return response
        return _error(500, "internal error", str(exc))

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
        # A locked, full, read-only or failing database is a state of the machine, not a bug: say which,
        # as JSON, with a 503 a client may retry.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        response = _error(503, "storage unavailable", str(exc))
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(StoreFault)
    async def store_fault(request: Request, exc: StoreFault) -> JSONResponse:
        # Any other refusal of the database is a bug: logged with its trace (the driver's error is its cause).
        log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
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
        # Starlette's own: an unknown path (404), a method the path does not take (405), a body too large
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"nothing at {request.url.path}; /docs lists the API's routes"
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            allowed = (exc.headers or {}).get("Allow", "")
            detail = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}"
        response = _error(exc.status_code, phrase(exc.status_code).lower(), detail)
        response.headers.update(exc.headers or {})  # 405's Allow
        return response

    return app
