"""/docs and /redoc are served whole from this server: no outside host in the pages, every asset here."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import Served


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_pages_name_no_outside_host_and_their_assets_are_here(served: Served, page: str) -> None:
    """No absolute URL in the page; each script, style and icon it names is served by this server with
    its media type; a Content-Security-Policy confines the page to this server."""
    r = served.client.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert not re.search(r"(https?:)?//", r.text), "the page names another host"
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp  # no inline scripts, no other host
    referenced = re.findall(r'(?:src|href|spec-url|data-openapi-url)="([^"]+)"', r.text)
    assert len(referenced) >= 3
    kinds = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    kinds[".json"] = "application/json"
    for url in referenced:
        asset = served.client.get(url)
        assert asset.status_code == 200, url
        kind = next(k for suffix, k in kinds.items() if url.endswith(suffix))
        assert asset.headers["content-type"].startswith(kind), url


def test_swagger_ui_is_told_not_to_ask_the_outside_validator(served: Served) -> None:
    """Swagger UI's default validator badge would send the document's URL to an outside host."""
    script = served.client.get("/docs/assets/swagger-init.js").text
    assert "validatorUrl: null" in script


def test_an_unknown_docs_asset_is_a_404_naming_the_known_ones(served: Served) -> None:
    """Only the listed bundles are served: no path into the package's files."""
    r = served.client.get("/docs/assets/app.py")
    assert r.status_code == 404
    assert "swagger-ui-bundle.js" in r.json()["detail"]
    assert served.client.get("/docs/assets/..%2f..%2fapp.py").status_code == 404
