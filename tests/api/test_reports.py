"""Reports over a real uvicorn: the excursions CSV, and PDFs rendered to PNG and read back as text."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from api.reports.layout import latin1
from monitor.model.profiles import Catalog
from tests.api.conftest import Served
from tests.timeline import DOORS, DURATION, WARM_SECONDS, feed_timeline

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils missing: run scripts/system-deps.sh (make test does)",
)


@pytest.fixture
def fed(served: Served, catalog: Catalog) -> Served:
    feed_timeline(served.database, catalog, served.settings, served.clock.wall())
    served.clock.advance(DURATION)
    return served


def pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    """Render every page to PNG (as an inspector's viewer would) and return the PDF's text."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(tmp_path / name)], check=True)
    pages = sorted(tmp_path.glob(f"{name}-*.png"))
    assert pages, "pdftoppm rendered no page"
    assert all(p.stat().st_size > 2_000 for p in pages)  # a blank A4 page at 60 dpi is far smaller
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True)
    return out.stdout


def test_excursions_csv_lists_the_warm_spell_and_the_long_opening(fed: Served) -> None:
    """The CSV holds the 20-minute warm spell and the openings past the 60 s light hold, not the 30 s one."""
    r = fed.client.get("/api/v1/reports/excursions.csv", params={"days": 1})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="excursions.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["kind"], x["duration_seconds"], x["extreme_value"], x["unit"]) for x in rows] == [
        ("light", str(DOORS[1][1]), "400.00", "lx"),
        ("light", str(DOORS[2][1]), "800.00", "lx"),
        ("temperature-high", str(WARM_SECONDS), "10.00", "°C"),
    ]
    assert rows[2]["start_utc"] == "2026-01-01T01:06:40Z"
    assert rows[2]["end_utc"] == "2026-01-01T01:26:40Z"
    assert rows[2]["bound"] == "8"
    assert rows[2]["location"] == "fridge-1"


def test_excursions_csv_period_and_errors(fed: Served) -> None:
    """A period before the data is an empty CSV with its header; bad periods and places are named."""
    empty = fed.client.get(
        "/api/v1/reports/excursions.csv",
        params={"start": "2025-12-01T00:00:00Z", "end": "2025-12-02T00:00:00Z"},
    )
    assert empty.text.splitlines() == [
        "location,location_name,kind,start_utc,end_utc,duration_seconds,extreme_value,unit,bound,readings"
    ]
    backwards = fed.client.get(
        "/api/v1/reports/excursions.csv",
        params={"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
    )
    assert backwards.status_code == 422
    assert backwards.json()["message"] == "the report period must end after it starts"
    naive = fed.client.get("/api/v1/reports/excursions.csv", params={"start": "2026-01-01T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["message"].startswith("start: give a time zone")
    nowhere = fed.client.get("/api/v1/reports/excursions.csv", params={"location": "freezer-9"})
    assert nowhere.status_code == 404


@needs_poppler
def test_location_pdf_holds_its_sections(served: Served, catalog: Catalog, tmp_path: Path) -> None:
    """The location PDF renders and holds the min/max sheet, excursions, openings, dose, MKT and alerts."""
    t0 = served.clock.wall()
    feed_timeline(served.database, catalog, served.settings, t0, seconds=3700)  # inside the long opening
    alerts = served.client.get("/api/v1/alerts", params={"since": 0, "state": "firing"}).json()["alerts"]
    light = next(a for a in alerts if a["rule"] == "light-exposure")
    ack = {"by": "K. Sato", "comment": "door closed, vials checked"}
    assert served.writer.post(f"/api/v1/alerts/{light['id']}/ack", json=ack).status_code == 200
    feed_timeline(served.database, catalog, served.settings, t0, begin=3700)
    served.clock.advance(DURATION)
    fed = served
    r = fed.client.get(
        "/api/v1/reports/locations/fridge-1.pdf", params={"days": 1, "utc_offset_minutes": 540}
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    text = pdf_text(r.content, tmp_path, "location")
    for heading in (
        "Storage report: Pharmacy fridge 1",
        "Daily minimum and maximum temperature",
        "Excursions",
        "Door openings",
        "Alerts and acknowledgements",
        "Mean kinetic temperature (period)",
        "Cumulative light dose (period)",
    ):
        assert heading in text, heading
    assert "UTC+09:00" in text
    assert "Thu 2026-01-01" in text  # the day in JST holding all the data
    assert "20.0 min" in text  # the warm spell's duration
    assert "K. Sato" in text
    assert "door closed, vials checked" in text
    assert "80.8 lux·h" in text


@needs_poppler
def test_vial_pdf_holds_exposure_and_potency(fed: Served, tmp_path: Path) -> None:
    """The vial PDF renders with its potency, status, exposure history between events and alerts."""
    vials = {v["key"]: v for v in fed.client.get("/api/v1/vials").json()}
    infusion = vials["infusion-0001"]
    r = fed.client.get(f"/api/v1/reports/vials/{infusion['id']}.pdf")
    assert r.status_code == 200
    text = pdf_text(r.content, tmp_path, "vial")
    for heading in ("Vial infusion-0001", "Potency", "Exposure history", "Events", "Potency over time"):
        assert heading in text, heading
    words = " ".join(text.split())  # the layout puts a term and its value columns apart
    assert f"Verdict {infusion['verdict']['label']}" in words
    assert infusion["verdict"]["label"] == "Do not use"
    assert f"Time left {infusion['verdict']['time_left']}" in words
    assert f"{infusion['potency_percent']:.2f} % of label" in text
    assert "infusion-container" in text
    assert "potency-critical" not in text or "do not use" in text
    assert fed.client.get("/api/v1/reports/vials/999.pdf").status_code == 404


def test_pdf_text_spells_what_the_core_font_cannot_draw() -> None:
    """Symbols outside Latin-1 are spelled out; the degree sign and middle dot stay; others become '?'."""
    assert latin1("τ ≥ 0.3 − 2 °C · lux·h … 光") == "tau >= 0.3 - 2 °C · lux·h ... ?"
