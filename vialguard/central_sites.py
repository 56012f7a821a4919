"""The site's own API as central serves it under ``/sites/{site}/`` (:mod:`fleet.central.site_apps`).

``fleet`` and ``api`` import neither each other, so the two meet here, in the package that composes the
others: the site's application (:func:`api.app.create_app`) over central's store for the site, without
the system checks (they would write the site's alerts), evaluating with central's catalog, and answering
central's refusals (:mod:`fleet.central.site_refusals`) with the status each declares, in the API's
problem details.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from api.app import create_app
from api.problems import problem_response
from fleet.central.site_refusals import CentralRefusal
from hardware.clock import Clock
from monitor.config import Settings
from monitor.model.profiles import Catalog
from monitor.store.ports import StorePool


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CentralRefusal)  # registered for that class alone
    return problem_response(exc.status, exc.error, str(exc))


class CentralSiteApi:
    """:class:`fleet.central.site_apps.SiteApi` with the API's own application and problem details."""

    def app(self, settings: Settings, stores: StorePool, clock: Clock, catalog: Catalog) -> FastAPI:
        app = create_app(settings, stores, clock, watch_system=False)
        app.state.vialguard.catalog = catalog
        # Starlette looks a handler up along the exception's classes, so this one comes before the
        # app's own for InvalidRequest (the refusals' base, a 422).
        app.add_exception_handler(CentralRefusal, _refused)
        return app

    def problem(
        self, status: int, error: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> JSONResponse:
        response = problem_response(status, error, detail)
        response.headers.update(headers or {})
        return response
