"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served from this machine: no CDN, no font host.

A pharmacy LAN often has no internet: FastAPI's own pages load Swagger UI and ReDoc from a CDN and fonts
from Google, and stay blank there. The scripts and styles come instead from the ``fastapi-offline`` package,
which ships Swagger UI's and ReDoc's standalone bundles (its ``static`` folder); the pages and Swagger UI's
start-up script are ours (``api/docs_assets``). Each page carries a Content-Security-Policy that allows
nothing but this server, so a part of either bundle that reaches for an outside host (ReDoc's "API docs by
Redocly" logo, Swagger UI's validator badge) is stopped in the browser, never sent.
"""

from __future__ import annotations

import html
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from monitor.errors import NotFound

router = APIRouter(include_in_schema=False)

# name -> (package, folder, media type)
_ASSETS: dict[str, tuple[str, str, str]] = {
    "swagger-ui-bundle.js": ("fastapi_offline", "static", "text/javascript"),
    "swagger-ui.css": ("fastapi_offline", "static", "text/css"),
    "redoc.standalone.js": ("fastapi_offline", "static", "text/javascript"),
    "swagger-init.js": ("api", "docs_assets", "text/javascript"),
    "redoc.css": ("api", "docs_assets", "text/css"),
}
# Styles inline: both bundles set element styles from script (ReDoc through styled-components). Workers
# from blob: ReDoc's search index runs in one. Images as data: Swagger UI's icons.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none';"
    " base-uri 'none'; form-action 'none'; object-src 'none'"
)
_HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@cache
def _read(package: str, folder: str, name: str) -> bytes:
    return resources.files(package).joinpath(folder, name).read_bytes()


def _page(request: Request, name: str) -> HTMLResponse:
    root = html.escape(str(request.scope.get("root_path", "")), quote=True)
    title = html.escape(str(request.app.title))
    text = _read("api", "docs_assets", name).decode("utf-8").replace("{root}", root).replace("{title}", title)
    return HTMLResponse(text, headers=_HEADERS)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return _page(request, "swagger.html")


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return _page(request, "redoc.html")


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> Response:
    where = _ASSETS.get(name)
    if where is None:
        raise NotFound(f"no documentation asset named {name!r}; known: {', '.join(sorted(_ASSETS))}")
    package, folder, kind = where
    # The bundles change only with the installed package: a day's caching spares a Pi re-sending 2 MB.
    headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
    return Response(_read(package, folder, name), media_type=kind, headers=headers)
