"""A vial handed over from one site to another goes on from its state there: the receiving site's potency
is the one its whole life at one site gives.

Three real SQLite files: site A (a fridge, no worst case: unseen light bounded by the highest seen, a
silent spell, saturated readings), site B (a ward with a worst case) and a single site holding both
locations with the same readings. The vial is registered in A's fridge, its packaging changed, handed over
to B at ``t1`` and received on the ward; on the single site it is moved to the ward at ``t1`` instead.
"""

from __future__ import annotations

import copy
import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hardware.clock import ManualClock
from monitor import assessment, handover
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.errors import InvalidRequest
from monitor.lifecycle import NewEvent, record_event
from monitor.model import evaluation
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.site_sync import sync_site
from monitor.store import Database, migrations, model_inputs, outbox, schema, sites
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from tests.conftest import simulated_raw

HOUR = 3600.0
HAND_OVER_H = 3.0
END_H = 6.0
THRESHOLDS = Thresholds(95.0, 90.0)
WARD = {"key": "ward", "name": "Ward 3", "kind": "room", "worst_case_lux": 900.0}
WARD_SENSORS = [
    {"key": "ward-lux", "location": "ward", "quantity": "light", "interval_seconds": 10.0},
    {"key": "ward-temp", "location": "ward", "quantity": "temperature"},
]


def _settings(path: Path, name: str, fridge: bool, ward: bool) -> Settings:
    raw = simulated_raw()
    raw["site_name"] = name
    raw["vials"] = []
    raw["locations"] = ([raw["locations"][0]] if fridge else []) + ([WARD] if ward else [])
    sensors = [dict(s, interval_seconds=10.0) if s["quantity"] == "light" else s for s in raw["sensors"]]
    raw["sensors"] = (sensors if fridge else []) + (WARD_SENSORS if ward else [])
    return parse_settings(raw, "site.toml", {"db_path": path})


def _readings(rng: random.Random, t0: float) -> dict[str, list[tuple[float, float]]]:
    """Each sensor's readings: the fridge's until an hour after the hand-over, the ward's all along."""
    out: dict[str, list[tuple[float, float]]] = {}
    doors = [(rng.uniform(0, END_H * HOUR), rng.uniform(60, 900), rng.uniform(100, 2500)) for _ in range(8)]
    silent = rng.uniform(0.5, HAND_OVER_H - 1.0) * HOUR
    for sensor, until_h, base in (("fridge-1", HAND_OVER_H + 1.0, 0.0), ("ward", END_H, 150.0)):
        light, temp = [], []
        for s in np.arange(0.0, until_h * HOUR, 10.0).tolist():
            if sensor == "fridge-1" and silent <= s < silent + 1200:
                continue
            door = next((x for a, d, x in doors if a <= s < a + d), 0.0)
            light.append((t0 + s, base + door))
            if s % 60 == 0:
                temp.append((t0 + s, (5.0 if sensor == "fridge-1" else 22.0) + (door > 0)))
        out[f"{sensor}-lux"] = light
        out[f"{sensor}-temp" if sensor == "fridge-1" else "ward-temp"] = temp
    return out


def _open(settings: Settings, catalog: Catalog, t0: float, readings: dict[str, Any]) -> sqlite3.Connection:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, t0)
    known = {s.key for s in settings.sensors}
    engine = Engine(conn, catalog, default_rules(settings.rules.thresholds()))
    for start in np.arange(0.0, END_H * HOUR, 1800.0).tolist():
        lo, hi = t0 + start, t0 + start + 1800.0
        light = [
            LightReading(key, ts, lux, saturated=lux > 2000)
            for key, rows in readings.items()
            if key in known and key.endswith("lux")
            for ts, lux in rows
            if lo <= ts < hi
        ]
        temperature = [
            TemperatureReading(key, ts, c)
            for key, rows in readings.items()
            if key in known and key.endswith("temp")
            for ts, c in rows
            if lo <= ts < hi
        ]
        engine.ingest(Batch(light=light, temperature=temperature), hi)
    return conn


@dataclass
class Sites:
    a: sqlite3.Connection
    b: sqlite3.Connection
    one: sqlite3.Connection
    t0: float
    t1: float
    now: float
    document: dict[str, Any]


def _life_at_a(conn: sqlite3.Connection, catalog: Catalog, t0: float) -> vial_store.VialRecord:
    fridge = sites.location_by_key(conn, "fridge-1").id
    with transaction(conn):
        vial_id = vial_store.register(
            conn,
            key="roze-9001",
            drug="mecobalamin",
            form="rozebalamin-25mg",
            lot="RZ1",
            expiry="2031-01",
            initial_potency_percent=99.0,
            location_id=fridge,
            packaging="light-protected-vial",
            ts=t0 + 600.0,
            recorded_ts=t0 + 600.0,
        )
        vial = vial_store.get(conn, vial_id)
        record_event(
            conn,
            catalog,
            vial,
            NewEvent("packaging-changed", t0 + 1.5 * HOUR, None, "clear-glass"),
            t0 + END_H * HOUR,
        )
    return vial_store.get(conn, vial_id)


@pytest.fixture(params=range(3), ids=lambda s: f"seed{s}")
def handed(
    request: pytest.FixtureRequest, tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> Iterator[Sites]:
    rng = random.Random(request.param)
    t0 = clock.wall()
    t1, now = t0 + HAND_OVER_H * HOUR, t0 + END_H * HOUR
    readings = _readings(rng, t0)
    a = _open(_settings(tmp_path / "a.db", "site-a", True, False), catalog, t0, readings)
    b = _open(_settings(tmp_path / "b.db", "site-b", False, True), catalog, t0, readings)
    one = _open(_settings(tmp_path / "one.db", "one", True, True), catalog, t0, readings)
    vial = _life_at_a(a, catalog, t0)
    whole = _life_at_a(one, catalog, t0)
    with transaction(one):
        record_event(one, catalog, whole, NewEvent("moved", t1, "ward"), now)
    with transaction(a):
        sent = handover.hand_over(
            a, catalog, vial, from_site="site-a", to_site="site-b", ts=t1, now=now, thresholds=THRESHOLDS
        )
    document = json.loads(json.dumps(sent.document))  # as it travels: text
    with transaction(b):
        handover.receive(b, catalog, document, site="site-b", location="ward", now=now)
    yield Sites(a, b, one, t0, t1, now, document)
    for conn in (a, b, one):
        conn.close()


def _vial(conn: sqlite3.Connection) -> vial_store.VialRecord:
    found = vial_store.by_key(conn, "roze-9001")
    assert found is not None
    return found


def _close(got: tuple[float, ...], want: tuple[float, ...]) -> bool:
    return got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_received_vial_goes_on_as_its_whole_life_at_one_site(handed: Sites, catalog: Catalog) -> None:
    """At times after the hand-over, best, low, high and the effective dose at the receiving site are
    those of the vial's whole life evaluated at one site holding both locations."""
    s = handed
    times = np.array(sorted([s.t1, s.t1 + 1.0, *np.linspace(s.t1 + 60.0, s.now - 60.0, 25).tolist()]))
    got = evaluation.evaluate_one(model_inputs.load(s.b, catalog, [_vial(s.b)], times=times), catalog, 90.0)
    want = evaluation.evaluate_one(
        model_inputs.load(s.one, catalog, [_vial(s.one)], times=times), catalog, 90.0
    )
    for i, ts in enumerate(times.tolist()):
        g, w = got.series.percent(i), want.series.percent(i)
        assert _close((g.best, g.low, g.high), (w.best, w.low, w.high)), (ts - s.t0, g, w)
        gd, wd = got.series.effective_lux_hours(i), want.series.effective_lux_hours(i)
        assert _close((gd.best, gd.low, gd.high), (wd.best, wd.low, wd.high)), ts - s.t0
    assert got.series.percent(0).low < 99.0  # the state carried something to go on from


def test_verdict_and_time_left_agree_with_the_single_site(handed: Sites, catalog: Catalog) -> None:
    """As of the data with a later clock (a silent spell widening the low bound): the potency, the
    verdict, its basis and the time left are the single site's."""
    s = handed
    later = s.now + 1800.0
    got = assessment.assess(s.b, catalog, _vial(s.b), THRESHOLDS, now=later)
    want = assessment.assess(s.one, catalog, _vial(s.one), THRESHOLDS, now=later)
    g, w = got.potency.percent_range, want.potency.percent_range
    assert _close((g.best, g.low, g.high), (w.best, w.low, w.high))
    assert (got.verdict.verdict, got.verdict.basis) == (want.verdict.verdict, want.verdict.basis)
    assert got.verdict.basis_percent == pytest.approx(want.verdict.basis_percent, rel=1e-9)
    gt, wt = got.potency.time_to_threshold, want.potency.time_to_threshold
    assert gt is not None
    assert wt is not None
    assert gt.hours_low == pytest.approx(wt.hours_low, rel=1e-9)
    assert got.verdict.time_left_text() == want.verdict.time_left_text()


def test_the_document_holds_the_state_at_the_hand_over(handed: Sites, catalog: Catalog) -> None:
    """The document's potency is the single site's at the hand-over; the sending site keeps the vial's
    history, evaluated up to the hand-over and no further, out of stock."""
    s = handed
    at = evaluation.evaluate_one(
        model_inputs.load(s.one, catalog, [_vial(s.one)], times=np.array([s.t1])), catalog, 90.0
    )
    p = s.document["potency_percent"]
    assert _close((p["best"], p["low"], p["high"]), (at.percent.best, at.percent.low, at.percent.high))
    assert s.document["vial"]["packaging"] == "clear-glass"
    sent = assessment.assess(s.a, catalog, _vial(s.a), THRESHOLDS, now=s.now)
    assert _vial(s.a).status == "handed-over"
    assert sent.potency.as_of == s.t1
    assert not sent.verdict.in_stock
    assert sent.verdict.reason.startswith("handed over to another site")
    assert [e.kind for e in vial_store.events(s.a, _vial(s.a).id)][-1] == "handed-over"
    assert vial_store.list_all(s.a, active_only=True) == []


def test_a_tampered_document_is_refused(handed: Sites, catalog: Catalog, tmp_path: Path) -> None:
    """One digit changed in the carried state: the checksum refuses it, and nothing is written."""
    c = _open(_settings(tmp_path / "c.db", "site-b", False, True), catalog, handed.t0, {})
    bad = copy.deepcopy(handed.document)
    bad["state"]["light_loss_most"] *= 0.5
    with pytest.raises(InvalidRequest, match="checksum does not match"), transaction(c):
        handover.receive(c, catalog, bad, site="site-b", location="ward", now=handed.now)
    assert vial_store.by_key(c, "roze-9001") is None
    c.close()


def test_receiving_refuses_what_cannot_be(handed: Sites, catalog: Catalog) -> None:
    """A key already in stock here, a document for another site, a hand-over in the future, another
    vial under a key this site handed over; the same document twice is the same receipt."""
    s = handed
    with transaction(s.b):
        again = handover.receive(s.b, catalog, s.document, site="site-b", location="ward", now=s.now)
    assert again.repeated
    other = dict(s.document, handed_over_ts=s.t1 + 5.0)
    other["checksum"] = handover.checksum_of({k: v for k, v in other.items() if k != "checksum"})
    with pytest.raises(InvalidRequest, match="already here and in stock"), transaction(s.b):
        handover.receive(s.b, catalog, other, site="site-b", location="ward", now=s.now)
    with pytest.raises(InvalidRequest, match="to site 'site-b', and this is 'site-c'"), transaction(s.b):
        handover.receive(s.b, catalog, s.document, site="site-c", location="ward", now=s.now)
    future = dict(s.document, handed_over_ts=s.now + 3600.0, to_site="site-a")
    future["checksum"] = handover.checksum_of({k: v for k, v in future.items() if k != "checksum"})
    with pytest.raises(InvalidRequest, match="in the future"), transaction(s.a):
        handover.receive(s.a, catalog, future, site="site-a", location="fridge-1", now=s.now)
    impostor = dict(s.document, to_site="site-a", vial=dict(s.document["vial"], lot="OTHER"))
    impostor["checksum"] = handover.checksum_of({k: v for k, v in impostor.items() if k != "checksum"})
    with pytest.raises(InvalidRequest, match="two vials cannot share a key"), transaction(s.a):
        handover.receive(s.a, catalog, impostor, site="site-a", location="fridge-1", now=s.now)


def test_hand_over_refuses_a_time_before_the_last_event_or_ahead(handed: Sites, catalog: Catalog) -> None:
    """At the sending site: a hand-over before the vial's last event, in the future, or of a vial no
    longer in stock is refused with the reason."""
    s = handed
    vial = _vial(s.b)
    for ts, match in ((s.t1 - 60.0, "before the vial's last event"), (s.now + 3600.0, "in the future")):
        with pytest.raises(InvalidRequest, match=match), transaction(s.b):
            handover.hand_over(
                s.b,
                catalog,
                vial,
                from_site="site-b",
                to_site="site-a",
                ts=ts,
                now=s.now,
                thresholds=THRESHOLDS,
            )
    with pytest.raises(InvalidRequest, match="is handed-over"), transaction(s.a):
        handover.hand_over(
            s.a,
            catalog,
            _vial(s.a),
            from_site="site-a",
            to_site="site-b",
            ts=s.now,
            now=s.now,
            thresholds=THRESHOLDS,
        )


def test_a_vial_comes_back_to_the_site_it_left(handed: Sites, catalog: Catalog) -> None:
    """Handed back from B to A, the vial is active at A again and goes on from B's state: equal to the
    single site where it moved back to the fridge."""
    s = handed
    back_ts = s.t1 + 2.0 * HOUR
    with transaction(s.b):
        back = handover.hand_over(
            s.b,
            catalog,
            _vial(s.b),
            from_site="site-b",
            to_site="site-a",
            ts=back_ts,
            now=s.now,
            thresholds=THRESHOLDS,
        )
    with transaction(s.a):
        handover.receive(
            s.a, catalog, json.loads(json.dumps(back.document)), site="site-a", location="fridge-1", now=s.now
        )
    with transaction(s.one):
        record_event(s.one, catalog, _vial(s.one), NewEvent("moved", back_ts, "fridge-1"), s.now)
    assert _vial(s.a).status == "active"
    times = np.array([back_ts, back_ts + 1800.0, s.t1 + 3.0 * HOUR])
    got = evaluation.evaluate_one(model_inputs.load(s.a, catalog, [_vial(s.a)], times=times), catalog, 90.0)
    want = evaluation.evaluate_one(
        model_inputs.load(s.one, catalog, [_vial(s.one)], times=times), catalog, 90.0
    )
    for i in range(len(times)):
        g, w = got.series.percent(i), want.series.percent(i)
        assert _close((g.best, g.low, g.high), (w.best, w.low, w.high)), i


def test_migration_keeps_vials_their_events_and_alerts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database of the schema before the vials' table is rebuilt keeps every vial, event and alert,
    their references and the triggers that name ``vials``; a handed-over status is then accepted."""
    before = migrations.NAMES.index("v20_vial_handover")
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    monkeypatch.setattr(schema, "SCHEMA_VERSION", before)
    schema.migrate(conn)
    conn.execute("INSERT INTO locations (key, name, kind) VALUES ('f', 'F', 'fridge')")
    conn.execute(
        "INSERT INTO vials (key, drug, form, lot, initial_potency_percent, registered_ts)"
        " VALUES ('v1', 'mecobalamin', 'rozebalamin-25mg', 'L', 100.0, 1.0)"
    )
    conn.execute(
        "INSERT INTO vial_events (vial_id, ts, kind, location_id, recorded_ts)"
        " VALUES (1, 1.0, 'registered', 1, 1.0)"
    )
    conn.execute(
        "INSERT INTO alerts (fingerprint, rule, severity, state, vial_id, started_ts, message, seq)"
        " VALUES ('x', 'potency-low', 'warning', 'firing', 1, 2.0, 'm', 1)"
    )
    monkeypatch.undo()
    schema.migrate(conn)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("SELECT key, status FROM vials").fetchall() == [("v1", "active")]
    conn.execute("UPDATE vials SET status = 'handed-over' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO vial_events (vial_id, ts, kind, recorded_ts) VALUES (7, 1.0, 'moved', 1.0)")
    conn.close()


def test_the_document_goes_to_central_with_the_uplink(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """With the fleet uplink on, a hand-over queues its document (kind vial-handover) beside the event,
    and the document central receives passes the receiving site's check."""
    t0 = clock.wall()
    a = _open(_settings(tmp_path / "a.db", "site-a", True, False), catalog, t0, {})
    with transaction(a):
        outbox.enable(a, "site-a")
    vial = _life_at_a(a, catalog, t0)
    with transaction(a):
        sent = handover.hand_over(
            a,
            catalog,
            vial,
            from_site="site-a",
            to_site="site-b",
            ts=t0 + 2 * HOUR,
            now=t0 + 2 * HOUR,
            thresholds=THRESHOLDS,
        )
    rows = [r for r in outbox.pending(a, 0, 100_000) if r.kind == "vial-handover"]
    assert len(rows) == 1
    record = rows[0].record
    assert record is not None
    assert (record["vial"], record["direction"], record["peer_site"]) == ("roze-9001", "out", "site-b")
    assert record["document"] == sent.document
    assert handover.verify(json.loads(json.dumps(record["document"])))["to_site"] == "site-b"
    a.close()
