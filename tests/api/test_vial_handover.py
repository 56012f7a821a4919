"""A vial handed over between two sites over their APIs: two real servers on two real SQLite files."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hardware.clock import ManualClock
from monitor.config import Settings, parse_settings
from monitor.model.profiles import Catalog
from tests.api.conftest import Served, serve
from tests.api.test_api import feed_light
from tests.api.test_reports import needs_poppler, pdf_text
from tests.conftest import simulated_raw


def _site(tmp_path: Path, name: str, *, ward: bool) -> Settings:
    raw = simulated_raw()
    raw["site_name"] = name
    raw["locations"][0]["worst_case_lux"] = 800.0
    if ward:  # the receiving site: a ward with its own sensor, none of the sending site's vials
        raw["locations"].append({"key": "ward", "name": "Ward 3", "kind": "room", "worst_case_lux": 800.0})
        raw["vials"] = []
    return parse_settings(raw, "site.toml", {"db_path": tmp_path / f"{name}.db"})


@pytest.fixture
def two(tmp_path: Path, clock: ManualClock) -> Iterator[tuple[Served, Served]]:
    with (
        serve(_site(tmp_path, "site-a", ward=False), clock) as a,
        serve(_site(tmp_path, "site-b", ward=True), clock) as b,
    ):
        yield a, b


def _vial(served: Served, key: str) -> dict[str, Any]:
    return next(v for v in served.client.get("/api/v1/vials").json() if v["key"] == key)


def _hand_over(two: tuple[Served, Served], catalog: Catalog) -> dict[str, Any]:
    a, _ = two
    feed_light(a, catalog, 1800, 400.0)
    r = a.writer.post("/api/v1/vials/infusion-0001/hand-over", json={"to_site": "site-b"})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_hand_over_then_receive_shows_the_state_and_where_it_came_from(
    two: tuple[Served, Served], catalog: Catalog
) -> None:
    """The sending site's vial is out of stock with its history; the receiving site's starts from the
    document's potency and says where it came from and when, on the list, the vial and its events."""
    a, b = two
    done = _hand_over(two, catalog)
    document = done["document"]
    assert document["from_site"] == "site-a"
    assert document["checksum"].startswith("sha256:")
    assert done["vial"]["status"] == "handed-over"
    assert done["vial"]["handed_over_to"] == "site-b"
    assert done["vial"]["verdict"]["in_stock"] is False
    sent = _vial(a, "infusion-0001")
    assert sent["potency_bounds_percent"]["low"] == round(document["potency_percent"]["low"], 4)
    events = a.client.get(f"/api/v1/vials/{sent['id']}/events").json()
    assert events[-1]["kind"] == "handed-over"

    r = b.writer.post("/api/v1/vials/receive", json={"document": document, "location": "ward"})
    assert r.status_code == 201, r.text
    got = r.json()["vial"]
    assert (got["received_from"], got["received_at"]) == ("site-a", document["handed_over_at"])
    assert got["status"] == "active"
    assert got["location"] == "ward"
    assert got["packaging"] == document["vial"]["packaging"]
    p = document["potency_percent"]
    assert got["potency_bounds_percent"] == {k: round(p[k], 4) for k in ("best", "low", "high")}
    assert got["verdict"]["basis_percent"] == round(p["low"], 4)
    shown = b.client.get(f"/api/v1/vials/{got['id']}").json()
    assert shown["hand_overs"] == [
        {
            "direction": "in",
            "site": "site-a",
            "at": document["handed_over_at"],
            "checksum": document["checksum"],
        }
    ]
    assert shown["verdict"] == _vial(b, "infusion-0001")["verdict"] == got["verdict"]
    kinds = [e["kind"] for e in b.client.get(f"/api/v1/vials/{got['id']}/events").json()]
    assert kinds == ["received"]
    again = b.writer.post("/api/v1/vials/receive", json={"document": document, "location": "ward"})
    assert again.status_code == 200
    assert again.json()["repeated"] is True


def test_refusals_say_why(two: tuple[Served, Served], catalog: Catalog) -> None:
    """A tampered document, one for another site, an unknown location, a vial already handed over and an
    event on it are each a 422 with the reason; nothing is registered."""
    a, b = two
    document = _hand_over(two, catalog)["document"]
    tampered = copy.deepcopy(document)
    tampered["state"]["light_loss_most"] = 0.0
    r = b.writer.post("/api/v1/vials/receive", json={"document": tampered, "location": "ward"})
    assert r.status_code == 422
    assert "checksum does not match" in r.text
    r = a.writer.post("/api/v1/vials/receive", json={"document": document, "location": "fridge-1"})
    assert r.status_code == 422
    assert "to site 'site-b', and this is 'site-a'" in r.text
    r = b.writer.post("/api/v1/vials/receive", json={"document": document, "location": "attic"})
    assert r.status_code == 422
    assert "unknown location 'attic'" in r.text
    assert all(v["key"] != "infusion-0001" for v in b.client.get("/api/v1/vials").json())
    r = a.writer.post("/api/v1/vials/infusion-0001/hand-over", json={"to_site": "site-c"})
    assert r.status_code == 422
    assert "is handed-over" in r.text
    vial_id = _vial(a, "infusion-0001")["id"]
    r = a.writer.post(f"/api/v1/vials/{vial_id}/events", json={"kind": "moved", "location": "fridge-1"})
    assert r.status_code == 422
    assert "handed over to another site" in r.text
    ahead = datetime.fromtimestamp(a.clock.wall() + 86_400.0, tz=UTC).isoformat()
    r = a.writer.post("/api/v1/vials/roze-0001/hand-over", json={"to_site": "site-b", "at": ahead})
    assert r.status_code == 422
    assert "in the future" in r.text
    r = a.client.post("/api/v1/vials/roze-0001/hand-over", json={"to_site": "site-b"})
    assert r.status_code in (401, 403)  # a write: anonymous reads only


@needs_poppler
def test_the_vial_report_holds_the_hand_over(
    two: tuple[Served, Served], catalog: Catalog, tmp_path: Path
) -> None:
    """The receiving site's vial PDF names the site it came from; the sending site's, where it went."""
    a, b = two
    document = _hand_over(two, catalog)["document"]
    got = b.writer.post("/api/v1/vials/receive", json={"document": document, "location": "ward"}).json()
    for served, vial_id, words in (
        (b, got["vial"]["id"], "received from"),
        (a, _vial(a, "infusion-0001")["id"], "handed over to"),
    ):
        r = served.client.get(f"/api/v1/reports/vials/{vial_id}.pdf")
        assert r.status_code == 200
        text = pdf_text(r.content, tmp_path, words.replace(" ", "-"))
        assert "Hand-overs between sites" in text
        assert words in text
        assert document["checksum"].removeprefix("sha256:")[:12] in text
