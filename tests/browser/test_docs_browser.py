"""/docs and /redoc in a real browser with the network unplugged: every host but 127.0.0.1 is blocked.

A pharmacy LAN often has no internet. The pages must render every operation from what this server
serves alone; a request for anything elsewhere (a CDN, a font host, a validator, a logo) that gets past
the pages' Content-Security-Policy fails the test.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.clock import ManualClock
from monitor.config import Settings
from tests.api.conftest import Served, serve
from tests.browser.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, _need_browser

pytestmark = pytest.mark.slow


@pytest.fixture
def server(settings: Settings, clock: ManualClock) -> Iterator[Served]:
    _need_browser()
    with serve(settings, clock) as served:
        yield served


def _operation_count(served: Served) -> int:
    paths: dict[str, dict[str, Any]] = served.client.get("/openapi.json").json()["paths"]
    return sum(len(item) for item in paths.values())


def test_docs_and_redoc_render_every_operation_offline(server: Served, tmp_path: Path) -> None:
    """Swagger UI lists every operation with its id and offers Authorize; ReDoc lists them too; nothing
    is asked of any host but this one, and neither page throws."""
    from playwright.sync_api import Route, expect, sync_playwright

    base = str(server.client.base_url).rstrip("/")
    operations = _operation_count(server)
    elsewhere: list[str] = []
    errors: list[str] = []
    failed: list[tuple[str, str]] = []

    def only_here(route: Route) -> None:
        if urllib.parse.urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    shot_docs, shot_redoc = tmp_path / "docs.png", tmp_path / "redoc.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", only_here)
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("requestfailed", lambda req: failed.append((req.url, req.failure or "")))

            page.goto(base + "/docs")
            expect(page.locator(".opblock")).to_have_count(operations, timeout=20_000)
            expect(page.get_by_role("button", name="Authorize")).to_be_visible()
            ack = page.locator(".opblock", has_text="acknowledge_alert")
            expect(ack.locator(".opblock-summary-operation-id")).to_have_text("acknowledge_alert")
            ack.locator(".opblock-summary").click()  # its responses: 200 and each error it can give
            codes = ack.locator("tr.response[data-code]")
            expect(codes).to_have_count(8, timeout=10_000)
            assert codes.evaluate_all("rows => rows.map(r => r.dataset.code)") == [
                "200",
                "400",
                "401",
                "403",
                "404",
                "413",
                "422",
                "503",
            ]
            page.screenshot(path=str(shot_docs), full_page=False)

            page.goto(base + "/redoc")
            # ReDoc's side menu: one entry per operation, under its tag
            expect(page.locator("[role=menuitem] .operation-type")).to_have_count(operations, timeout=20_000)
            expect(page.locator("h1").first).to_contain_text("vialguard")
            expect(page.get_by_text("Acknowledge").first).to_be_attached()
            page.screenshot(path=str(shot_redoc), full_page=False)
        finally:
            browser.close()

    assert elsewhere == []  # nothing asked of another host reached the network
    assert errors == []
    # ReDoc's "API docs by Redocly" logo is the one outside reference either bundle makes at run time; the
    # page's Content-Security-Policy stops it in the browser, before any request is made.
    assert [(url, why) for url, why in failed if why != "csp"] == []  # Chromium's net::ERR_BLOCKED_BY_CSP
    assert all(urllib.parse.urlsplit(url).hostname != "127.0.0.1" for url, _ in failed)
    for shot in (shot_docs, shot_redoc):
        assert shot.stat().st_size > 20_000
    keep = os.environ.get("VIALGUARD_DOCS_SCREENSHOTS")
    if keep:
        shutil.copyfile(shot_docs, Path(keep) / "docs.png")
        shutil.copyfile(shot_redoc, Path(keep) / "redoc.png")
