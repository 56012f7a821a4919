"""Rows central keeps apart because it holds their site id with other content raise central's own alert in
the fleet's feed, in the ingesting transaction: naming the site, the count of conflicts no operator has
seen and what to do; an operator's acknowledgement at central resolves it, and later conflicts raise a
new one."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psycopg

from fleet.central.ingest import ingest
from fleet.central.partitions import Partitions
from fleet.engines.mosquitto import PrivateMosquitto
from fleet.protocol import Batch, Chain, Fork, Row
from tests.fleet.fleet_system import Central, stop

T0 = 1_796_000_000.0
SITE = "north"
REASON = "central's rows are not this database's"


def event(seq: int, event_id: int, kind: str) -> Row:
    return Row(seq, "vial-event", {"id": event_id, "vial": "v1", "kind": kind, "ts": T0 + seq + event_id})


def send(url: str, epoch: str, rows: tuple[Row, ...], parent: str | None, at: float) -> int:
    """A batch of ``rows`` from the site's epoch ``epoch`` (drawn from ``parent``), ingested as central
    does; how many rows central kept apart."""
    fork = None if parent is None else Fork(parent, REASON)
    chain = Chain("", f"{epoch}-{rows[-1].seq}")
    batch = Batch(SITE, epoch, 0, rows, at, rows[-1].seq, None, chain, fork)
    with psycopg.connect(url) as conn:
        return ingest(conn, Partitions(), batch, at).conflicts


def post(central: Central, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{central.port}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {central.token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def central_changes(central: Central) -> list[dict[str, Any]]:
    return [c for c in central.alert_feed() if c["site"] == "@central"]


def test_conflicts_raise_centrals_alert_until_an_operator_acknowledges(
    postgres: str, broker: PrivateMosquitto, tmp_path: Path
) -> None:
    """A restored site resends vial events under ids central holds with other content: central's alert
    fires naming the site and the count, counts up while it stands, resolves when an operator
    acknowledges it (with its row in central's trail), and the next conflict raises a new alert that
    counts only the unseen one; the site's own alerts at central stay the site's."""
    central = Central(postgres, broker.url, tmp_path)
    central.start()
    try:
        assert send(postgres, "e1", (event(1, 7, "moved"), event(2, 8, "moved")), None, T0) == 0
        assert central_changes(central) == []
        assert send(postgres, "e2", (event(1, 7, "administered"),), "e1", T0 + 10) == 1
        (fired,) = central_changes(central)
        alert = fired["alert"]
        assert (alert["concerns_site"], alert["rule"], alert["state"], alert["value"]) == (
            SITE,
            "central-record-conflicts",
            "firing",
            1.0,
        )
        assert alert["message"].startswith(f"central holds 1 row from site {SITE} apart")
        assert f"/api/v1/fleet/central-alerts/{alert['id']}/acknowledge" in alert["message"]
        assert send(postgres, "e3", (event(1, 8, "discarded"),), "e2", T0 + 20) == 1
        updated = central_changes(central)[-1]
        assert updated["cursor"] > fired["cursor"]
        assert (updated["alert"]["id"], updated["alert"]["value"], updated["alert"]["event_kind"]) == (
            alert["id"],
            2.0,
            "updated",
        )
        assert "central holds 2 rows from site" in updated["alert"]["message"]
        (standing,) = [
            a for a in central.get("/api/v1/fleet/alerts/current")["alerts"] if a["site"] == "@central"
        ]
        assert (standing["id"], standing["value"], standing["site_online"]) == (alert["id"], 2.0, False)

        path = f"/api/v1/fleet/central-alerts/{alert['id']}/acknowledge"
        status, resolved = post(central, path, {"by": "ana", "comment": "restored from Monday's backup"})
        assert status == 200, resolved
        assert (resolved["state"], resolved["acknowledged_by"], resolved["event_kind"]) == (
            "resolved",
            "ana",
            "resolved",
        )
        assert post(central, path, {"by": "ana", "comment": "again"})[0] == 409
        assert central_changes(central)[-1]["alert"] == resolved
        assert not [
            a for a in central.get("/api/v1/fleet/alerts/current")["alerts"] if a["site"] == "@central"
        ]
        trail = [
            e
            for e in central.get("/api/v1/fleet/audit")["entries"]
            if e["action"] == "central-alert.acknowledged"
        ]
        assert [e["subject"] for e in trail] == [f"central-alert:{alert['id']}"]

        assert send(postgres, "e4", (event(1, 7, "moved-again"),), "e3", T0 + 30) == 1
        new = central_changes(central)[-1]["alert"]
        assert (new["state"], new["value"], new["event_kind"]) == ("firing", 1.0, "fired")
        assert new["id"] != alert["id"]
        assert central.sites()[SITE]["record_conflicts"] == 3
        # Central's alerts are not the site's: the site's own alert list at central holds none of them.
        assert [c for c in central.alert_feed() if c["site"] == SITE] == []
    finally:
        stop(central.process)
