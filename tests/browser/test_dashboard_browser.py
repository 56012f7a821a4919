"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a running simulation.

`vialguard run --simulate` runs in a subprocess (bridge and API, as a user starts them) with the door left
open, so light and potency alerts fire. The page must show its tiles and charts, take an acknowledgement
through its form (from the keyboard, by its labels), and look right in a screenshot.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.system_process import free_port, start_system

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The page's status colours (dashboard.css): a screenshot of a working page holds each of them.
RED, AMBER, GREEN = (0xB3, 0x26, 0x1E), (0xF2, 0xB6, 0x00), (0x17, 0x6B, 0x32)

pytestmark = pytest.mark.slow


def _need_browser() -> None:
    if platform.machine() == "armv7l":
        pytest.skip("Playwright has no armv7 build; the browser test runs on the development machines")
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} missing: run scripts/system-deps.sh (make test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@dataclass(frozen=True)
class System:
    base: str
    write_token: str  # acknowledging is a write: the page must be given a write token


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    """A running simulated system whose door is left open, once an alert is firing, and a write token."""
    _need_browser()
    port = free_port()
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "vialguard",
            "token",
            "create",
            "--simulate",
            "--db",
            str(tmp_path / "v.db"),
            "--scope",
            "write",
            "--name",
            "dashboard",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    write_token = created.stdout.strip()
    proc = start_system(tmp_path / "v.db", port, "--scenario", "door-left-open@10m+2h")
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            deadline = time.monotonic() + 60
            while True:
                assert time.monotonic() < deadline, "no alert fired within 60 s"
                assert proc.poll() is None, "vialguard run exited early"
                try:
                    firing = client.get("/api/v1/alerts", params={"since": 0, "state": "firing"}).json()
                except httpx.TransportError:
                    firing = {"alerts": []}
                if firing["alerts"]:
                    break
                time.sleep(0.2)  # a real process on a real clock: nothing here to drive time
        yield System(base, write_token)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out.decode()
    assert f"dashboard:  {base}/" in out.decode()  # `vialguard run` says where the page is


def _colour_share(png: Path, rgb: tuple[int, int, int]) -> float:
    """The share of the picture's pixels within a small distance of ``rgb``."""
    from PIL import Image

    with Image.open(png) as img:
        pixels = np.asarray(img.convert("RGB"), dtype=np.int16)
    near = np.all(np.abs(pixels - np.array(rgb, dtype=np.int16)) <= 12, axis=-1)
    return float(near.mean())


def test_dashboard_shows_tiles_charts_and_takes_an_acknowledgement(system: System, tmp_path: Path) -> None:
    """Tiles, charts, alerts; an alert acknowledged from the page; fits a tablet; the screenshot shows it."""
    from playwright.sync_api import expect, sync_playwright

    shot = tmp_path / "dashboard.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # Every request must succeed. Chromium reports a 304 to the page's conditional alert poll as
            # failed (net::ERR_ABORTED) just after handing the page its 304, which the page takes as "no
            # change" (microsoft/playwright#32752 is the same report for bodiless answers): a request
            # whose answer arrived as 304 is not a failure. Anything else failing is.
            answered: dict[Any, int] = {}
            not_modified: list[str] = []
            page.on("response", lambda r: answered.__setitem__(r.request, r.status))

            def failed(req: Any) -> None:
                line = f"request failed: {req.method} {req.url}: {req.failure}"
                (not_modified if answered.get(req) == 304 else errors).append(line)

            page.on("requestfailed", failed)
            # A Content-Security-Policy violation (an inline style, a foreign script) is a console error.
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            response = page.goto(system.base + "/")
            assert response is not None
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["x-content-type-options"] == "nosniff"

            expect(page.locator("#connection")).to_have_text("Live", timeout=15_000)
            # Live from here to the end: every text the connection badge takes is kept, and a poll that
            # failed (the page says "Offline: retrying") would leave its mark in them.
            page.evaluate(
                """() => {
                    const badge = document.getElementById("connection");
                    window.badgeTexts = new Set([badge.textContent]);
                    new MutationObserver(() => window.badgeTexts.add(badge.textContent))
                        .observe(badge, {childList: true, characterData: true, subtree: true});
                }"""
            )
            expect(page.locator("h1")).to_have_text("Simulated pharmacy")
            location = page.locator("article.location")
            expect(location).to_have_count(1)
            expect(location.get_by_role("heading")).to_have_text("Pharmacy fridge 1")
            expect(location.locator("dd").first).to_contain_text("°C", timeout=10_000)  # MKT has arrived
            expect(page.locator("article.vial")).to_have_count(4)
            # 2 charts per location and 1 per vial, each an SVG with an accessible name
            expect(page.locator("svg.chart[role=img]")).to_have_count(6, timeout=15_000)
            assert "cumulative" in (location.locator("svg.chart").nth(1).get_attribute("aria-label") or "")
            # κ_s as the model uses it: no spectral sensor here, so the configured lamp's, with its range
            kappa = location.locator("dt:has-text('Lamp spectrum factor κ_s') + dd")
            expect(kappa).to_contain_text(
                re.compile(r"\d\.\d\d, lamp .*\(\d\.\d\d\u2013\d\.\d\d, (assumed|derived)\)")
            )
            expect(location.locator("dt", has_text="Near-UV")).to_have_count(0)  # no UV sensor: no row
            expect(page.locator("article.vial[data-key=roze-0001] .badge")).to_have_text("Use")
            expect(page.locator("article.vial[data-key=infusion-0001] .badge")).to_have_text(
                "Do not use", timeout=20_000
            )
            # The verdict follows the model's low bound, and the tile says so beside the best and its range;
            # its words are the API's, not the page's own.
            infusion = page.locator("article.vial[data-key=infusion-0001]")
            expect(infusion).to_contain_text("verdict from the low bound")
            expect(infusion.locator("dt:has-text('Time left') + dd")).to_have_text("reached")
            expect(infusion.locator("dt:has-text('Why') + dd")).to_contain_text("below the critical 90 %")
            expect(page.locator("article.vial[data-key=infusion-0001] .chart")).to_have_attribute(
                "aria-label", re.compile("with its uncertainty band"), timeout=40_000
            )

            # The infusion's potency-critical alert: a potency that has fallen stays fallen, so it keeps
            # firing while the form is filled (a door or dropout alert at 600x can end meanwhile and leave
            # the list under the test's hands).
            card = (
                page.locator("li.alert")
                .filter(has_text="vial infusion-0001")
                .filter(has_text="rule potency-critical")
                .filter(has=page.get_by_role("button", name="Acknowledge"))
                .first
            )
            expect(card).to_be_visible(timeout=10_000)
            alert_id = card.get_attribute("data-alert-id")
            # That card, whatever its place: a newer alert arriving at the top is "first" in its turn.
            card = page.locator(f"li.alert[data-alert-id='{alert_id}']")
            card.get_by_role("button", name="Acknowledge").focus()
            page.keyboard.press("Enter")  # operable from the keyboard
            card.get_by_label("Your name").fill("K. Sato")
            card.get_by_role("button", name="Submit acknowledgement").click()
            expect(card.get_by_role("alert")).to_have_text("A comment is required: say what was done.")
            comment = card.get_by_label("Comment: what was done (required)")
            comment.fill("Door closed; infusion discarded.")
            # Alerts change at every poll at 600x; the list redrawn under a form being filled leaves the
            # keyboard focus where it was (it once moved every card, blurring the field being typed in).
            deadline = time.monotonic() + 30
            while True:
                with page.expect_response(lambda r: "/api/v1/alerts?" in r.url, timeout=30_000) as polled:
                    pass
                if polled.value.status == 200 and polled.value.json()["alerts"]:
                    break
                assert time.monotonic() < deadline, "no alert changed within 30 s"
            page.wait_for_timeout(300)  # the page renders what that poll brought
            expect(comment).to_be_focused()
            # Tab to the token disclosure (open while no token is remembered), Tab into its field
            comment.press("Tab")
            page.keyboard.press("Tab")
            page.keyboard.type(system.write_token)
            expect(card.get_by_label("API token (write scope)")).to_be_focused()
            page.keyboard.press("Tab")  # to the submit button
            page.keyboard.press("Enter")
            acknowledged = page.locator(f"li.alert[data-alert-id='{alert_id}'] .ackd")
            expect(acknowledged).to_contain_text("Acknowledged by K. Sato", timeout=10_000)
            expect(acknowledged).to_contain_text("Door closed; infusion discarded.")

            page.wait_for_timeout(500)  # let the charts' last frame settle before the picture
            page.screenshot(path=str(shot), full_page=True)

            tablet = browser.new_page(viewport={"width": 820, "height": 1180}, has_touch=True)
            tablet.goto(system.base + "/")
            expect(tablet.locator("svg.chart[role=img]")).to_have_count(6, timeout=15_000)
            assert tablet.evaluate("document.documentElement.scrollWidth") <= 820  # no sideways scrolling
            heights = tablet.locator("li.alert button:visible").evaluate_all(
                "bs => bs.map(b => b.offsetHeight)"
            )
            assert heights
            assert min(heights) >= 44  # touch targets
            assert page.evaluate("[...window.badgeTexts]") == ["Live"]
            assert errors == []
            print(f"{len(not_modified)} alert polls answered 304, reported failed by Chromium")
        finally:
            browser.close()

    alert = httpx.get(f"{system.base}/api/v1/alerts/{alert_id}", timeout=5).json()
    assert alert["acknowledged_by"] == "K. Sato"
    assert alert["acknowledgement_comment"] == "Door closed; infusion discarded."
    assert [e["kind"] for e in alert["events"]].count("acknowledged") == 1

    assert shot.stat().st_size > 50_000
    for name, rgb in (("red", RED), ("amber", AMBER), ("green", GREEN)):
        assert _colour_share(shot, rgb) > 0.0005, f"no {name} in the screenshot"
    keep = os.environ.get("VIALGUARD_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)


def test_spectral_site_shows_the_measured_spectrum_factor_and_near_uv_dose(tmp_path: Path) -> None:
    """With an AS7341 and an LTR390 beside the lux sensor, the location tile says κ_s was measured and
    gives the near-UV dose against ICH Q1B, with the assumption it rests on as the value's title."""
    from playwright.sync_api import expect, sync_playwright

    _need_browser()
    port = free_port()
    config = Path(__file__).parents[2] / "vialguard" / "data" / "simulated-spectral.toml"
    proc = start_system(
        tmp_path / "v.db", port, "--config", str(config), "--scenario", "door-left-open@10m+2h"
    )
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                deadline = time.monotonic() + 30
                while True:  # the API process is starting: nothing of ours to drive
                    try:
                        page.goto(f"http://127.0.0.1:{port}/")
                        break
                    except Exception:  # noqa: BLE001  # connection refused, in Playwright's own error type
                        assert time.monotonic() < deadline, "the dashboard did not load within 30 s"
                        time.sleep(0.2)
                location = page.locator("article.location")
                kappa = location.locator("dt:has-text('Lamp spectrum factor κ_s') + dd")
                expect(kappa).to_contain_text("measured", timeout=30_000)  # once the door lets light in
                near_uv = location.locator("dt:has-text('Near-UV dose (estimate)') + dd")
                expect(near_uv).to_contain_text("of ICH Q1B's 200 W·h/m²")
                assert "assumed 5 W/m²" in (near_uv.get_attribute("title") or "")
                # At 600x a chart's 6-minute bucket passes every 0.6 s: the charts are redrawn at the
                # dashboard's pace (after each poll, not only every 30 s or when an alert changes), keeping
                # up with the cards. Counted against the polls themselves, so a loaded machine that slows
                # both does not matter: each redraw starts with the location's series.
                polls: list[float] = []
                redraws: list[float] = []
                page.on(
                    "request",
                    lambda r: (
                        polls.append(time.monotonic())
                        if "/api/v1/dashboard" in r.url
                        else redraws.append(time.monotonic())
                        if "/series?hours=24" in r.url
                        else None
                    ),
                )

                def kept_up() -> bool:
                    # The first poll follows the page's own first drawing (no redraw within 4 s of it), and
                    # the last one's answer may still be on its way: every poll between them redraws. A page
                    # that redrew only every 30 s would show at most one redraw against four or more polls.
                    return len(polls) >= 4 and len(redraws) >= len(polls) - 2

                # Until four polls show it, however long a loaded machine takes to make them (the page
                # polls every 5 s; 60 s bounds a hang and measures nothing).
                deadline = time.monotonic() + 60
                while not kept_up() and time.monotonic() < deadline:
                    page.wait_for_timeout(100)  # Playwright hands over the page's requests while it waits
                start = polls[0] if polls else 0.0
                seen = f"polls at {[round(t - start, 1) for t in polls]} s, redraws at" + str(
                    [round(t - start, 1) for t in redraws]
                )
                assert len(polls) >= 4, seen
                assert len(redraws) >= len(polls) - 2, seen
            finally:
                browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out.decode()
