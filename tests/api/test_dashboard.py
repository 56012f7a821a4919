"""The dashboard over a real uvicorn: its page and assets, the glance JSON, chart series."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from monitor.model.profiles import Catalog
from tests.api.conftest import Served
from tests.timeline import DURATION, EXPECTED_LUX_HOURS, feed_timeline


@pytest.fixture
def fed(served: Served, catalog: Catalog) -> Served:
    feed_timeline(served.database, catalog, served.settings, served.clock.wall())
    served.clock.advance(DURATION)
    return served


def test_page_and_assets_ship_in_the_package(served: Served) -> None:
    """GET / is the page; its script and style come from the package, with their types; no outside URL."""
    page = served.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'src="assets/dashboard.js"' in page.text
    assert "http://" not in page.text.replace('xmlns="http://www.w3.org', "")
    assert "https://" not in page.text
    js = served.client.get("/assets/dashboard.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert "https://" not in js.text
    assert served.client.get("/assets/dashboard.css").headers["content-type"].startswith("text/css")


def test_unknown_asset_is_a_404_naming_it(served: Served) -> None:
    """Only the shipped assets are served; anything else is a JSON 404 naming what was asked for."""
    r = served.client.get("/assets/index.py")
    assert r.status_code == 404
    assert r.json()["message"] == "no dashboard asset named 'index.py'"
    assert served.client.get("/assets/..%2Fapp.py").status_code == 404


def test_dashboard_glance_after_a_scripted_day(fed: Served) -> None:
    """Door openings, longest, light state, MKT and each vial's colour and time left, in one response."""
    d = fed.client.get("/api/v1/dashboard").json()
    assert d["site_name"] == "Simulated pharmacy"
    assert d["thresholds"]["potency_critical_percent"] == 90.0
    (loc,) = d["locations"]
    assert loc["door_openings_today"] == 3
    assert loc["longest_opening_seconds"] == 300.0
    assert loc["light_on"] is False
    assert loc["location"]["cumulative_lux_hours"] == pytest.approx(EXPECTED_LUX_HOURS, rel=1e-3)
    assert loc["location"]["mean_kinetic_temperature_celsius"] > 5.0
    vials = {v["vial"]["key"]: v for v in d["vials"]}
    assert vials["roze-0001"]["status"] == "green"
    assert vials["infusion-0001"]["status"] == "red"
    gone = vials["infusion-0001"]["vial"]["verdict"]
    assert (gone["verdict"], gone["hours_left"], gone["time_left"]) == ("do-not-use", 0.0, "reached")
    assert all(v["status_basis"] == "low bound" for v in d["vials"])
    assert all(v["status"] == v["vial"]["verdict"]["colour"] for v in d["vials"])


def test_today_follows_the_viewers_utc_offset(fed: Served) -> None:
    """At UTC−1 local midnight falls at 01:00Z (one opening since); at UTC+1 the whole day counts."""
    west = fed.client.get("/api/v1/dashboard", params={"utc_offset_minutes": -60}).json()
    assert west["locations"][0]["day_start"] == "2026-01-01T01:00:00Z"
    assert west["locations"][0]["door_openings_today"] == 1
    east = fed.client.get("/api/v1/dashboard", params={"utc_offset_minutes": 60}).json()
    assert east["locations"][0]["day_start"] == "2025-12-31T23:00:00Z"
    assert east["locations"][0]["door_openings_today"] == 3
    bad = fed.client.get("/api/v1/dashboard", params={"utc_offset_minutes": 100_000})
    assert bad.status_code == 422
    assert "utc_offset_minutes" in bad.json()["message"]


def test_location_series_for_charts(fed: Served) -> None:
    """24 h in 288 buckets: lux max per bucket, °C, and the window's cumulative lux·h."""
    s = fed.client.get("/api/v1/locations/fridge-1/series").json()
    assert s["bucket_seconds"] == 300.0
    assert max(p["lux_max"] for p in s["light"]) == 800.0
    assert s["window_lux_hours"] == pytest.approx(EXPECTED_LUX_HOURS, rel=1e-3)
    assert max(p["celsius_max"] for p in s["temperature"]) == 10.0
    missing = fed.client.get("/api/v1/locations/freezer-9/series")
    assert missing.status_code == 404
    assert "freezer-9" in missing.json()["message"]
    assert fed.client.get("/api/v1/locations/fridge-1/series", params={"hours": 0}).status_code == 422


def test_potency_series_per_vial(fed: Served) -> None:
    """A vial's curve runs from 100 % at registration to today's estimate, with the thresholds."""
    vials = {v["key"]: v for v in fed.client.get("/api/v1/vials").json()}
    infusion = vials["infusion-0001"]
    s = fed.client.get(f"/api/v1/vials/{infusion['id']}/potency-series", params={"points": 30}).json()
    assert s["points"][0]["potency_percent"] == 100.0
    assert s["points"][-1]["potency_percent"] == pytest.approx(infusion["potency_percent"], abs=1e-3)
    assert s["threshold_warning_percent"] == 95.0
    assert fed.client.get("/api/v1/vials/999/potency-series").status_code == 404


def test_concurrent_polling_never_shares_a_connection(fed: Served) -> None:
    """Many pollers at once all get answers: each request has a database connection of its own."""
    paths = [
        "/api/v1/dashboard",
        "/api/v1/alerts?since=0",
        "/api/v1/locations/fridge-1/series",
        "/api/v1/vials",
    ]

    def get(i: int) -> int:
        return fed.client.get(paths[i % len(paths)]).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(get, range(96)))
    assert codes == [200] * 96


def test_dashboard_before_any_reading(served: Served) -> None:
    """A site that has read nothing yet answers with empty figures, not errors: light unknown, no openings."""
    d = served.client.get("/api/v1/dashboard").json()
    (loc,) = d["locations"]
    assert loc["light_on"] is None
    assert loc["door_openings_today"] == 0
    assert loc["longest_opening_seconds"] is None
    assert loc["location"]["celsius"] is None
    assert {v["status"] for v in d["vials"]} == {"green"}
    s = served.client.get("/api/v1/locations/fridge-1/series").json()
    assert (s["light"], s["temperature"], s["window_lux_hours"]) == ([], [], 0.0)
    vial = d["vials"][0]["vial"]
    curve = served.client.get(f"/api/v1/vials/{vial['id']}/potency-series").json()["points"]
    assert [p["potency_percent"] for p in curve] == [100.0]
