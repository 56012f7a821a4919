"""Writes through the API land in the audit trail, read at /api/v1/audit with an admin token."""

from __future__ import annotations

from monitor.model.profiles import Catalog
from tests.api.conftest import Served
from tests.api.test_api import feed_light


def test_writes_are_audited_with_the_token_that_made_them(served: Served, catalog: Catalog) -> None:
    """Acknowledgement, silence created and expired, vial registered and moved: one chained row each."""
    feed_light(served, catalog, 120, 800.0)
    alert = next(
        a for a in served.client.get("/api/v1/alerts").json()["alerts"] if a["rule"] == "light-exposure"
    )
    ack = {"by": "K. Sato", "comment": "door closed"}
    assert served.writer.post(f"/api/v1/alerts/{alert['id']}/ack", json=ack).status_code == 200
    silence = {
        "matchers": {"rule": "light-exposure"},
        "duration_seconds": 60,
        "created_by": "K",
        "comment": "c",
    }
    sid = served.writer.post("/api/v1/silences", json=silence).json()["id"]
    assert served.writer.post(f"/api/v1/silences/{sid}/expire", json={"by": "K"}).status_code == 200
    vial = {"key": "v-9", "drug": "mecobalamin", "form": "rozebalamin-25mg", "lot": "L"}
    vial |= {"location": "fridge-1", "packaging": "in-carton"}
    vid = served.writer.post("/api/v1/vials", json=vial).json()["id"]
    moved = {"kind": "packaging-changed", "packaging": "window-open"}
    assert served.writer.post(f"/api/v1/vials/{vid}/events", json=moved).status_code == 201
    refused = served.writer.post(f"/api/v1/alerts/{alert['id']}/ack", json={"by": "x", "comment": " "})
    assert refused.status_code == 422  # a refused write leaves no row

    page = served.client.get("/api/v1/audit", headers=served.auth("admin")).json()
    actions = [(e["action"], e["subject"], e["actor"]) for e in page["entries"]]
    assert actions == [
        ("alert.acknowledged", f"alert:{alert['id']}", "token:test-write"),
        ("silence.created", f"silence:{sid}", "token:test-write"),
        ("silence.expired", f"silence:{sid}", "token:test-write"),
        ("vial.registered", "vial:v-9", "token:test-write"),
        ("vial.packaging-changed", "vial:v-9", "token:test-write"),
    ]
    assert page["entries"][0]["detail"]["comment"] == "door closed"
    assert page["cursor"] == page["entries"][-1]["id"]
    rest = served.client.get("/api/v1/audit", params={"after": page["cursor"]}, headers=served.auth("admin"))
    assert rest.json() == {"entries": [], "cursor": page["cursor"], "has_more": False}
    check = served.client.get("/api/v1/audit/verify", headers=served.auth("admin")).json()
    assert check["intact"]
    assert check["rows"] == 5
    assert check["head_hash"] == page["entries"][-1]["hash"]
