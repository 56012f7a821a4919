"""The lifecycle through the engine and the store: pending rows, snapshots, escalation, the migration."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings
from monitor.engine import Engine
from monitor.model.profiles import Catalog
from monitor.store import alerts
from monitor.store.schema import MIGRATIONS, _statements, migrate
from tests.monitor.test_engine import open_engine


def feed_celsius(engine: Engine, clock: ManualClock, minutes: int, celsius: float) -> None:
    """``minutes`` of one temperature reading a minute through the engine, in batches of ten."""
    for start in range(0, minutes, 10):
        batch = Batch(
            temperature=[
                TemperatureReading("fridge-1-temp", clock.wall() + 60.0 * i, celsius)
                for i in range(min(10, minutes - start))
            ]
        )
        clock.advance(60.0 * len(batch.temperature))
        engine.ingest(batch, clock.wall())


def by_rule(conn: sqlite3.Connection, rule: str) -> list[alerts.AlertRecord]:
    return [a for a in alerts.changed_since(conn, 0, limit=10_000) if a.rule == rule]


def test_excursion_is_pending_then_breach_keeps_the_same_alert(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A warm fridge shows a pending alert at once; at 60 min the same alert fires with a rule snapshot."""
    conn, engine = open_engine(settings, catalog, clock)
    feed_celsius(engine, clock, 30, 9.5)
    (pending,) = by_rule(conn, "temperature-high")
    assert (pending.state, pending.fired_ts) == ("pending", None)
    feed_celsius(engine, clock, 40, 9.5)
    (fired,) = by_rule(conn, "temperature-high")
    assert fired.id == pending.id
    assert fired.state == "firing"
    assert fired.fired_ts is not None
    assert fired.fired_ts - fired.started_ts == 3600.0
    assert [e.kind for e in alerts.events(conn, fired.id)] == ["pending", "fired"]
    snap = json.loads(fired.snapshot)
    assert snap["rule"]["hold_seconds"] == 3600.0
    assert snap["rule"]["high"] == 8.0


def test_short_excursion_is_withdrawn_and_stays_out_of_reports(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """An excursion back in range before its time rule ends as withdrawn: resolved, never fired."""
    conn, engine = open_engine(settings, catalog, clock)
    feed_celsius(engine, clock, 10, 9.5)
    feed_celsius(engine, clock, 10, 5.0)
    (a,) = by_rule(conn, "temperature-high")
    assert (a.state, a.fired_ts) == ("resolved", None)
    assert [e.kind for e in alerts.events(conn, a.id)] == ["pending", "withdrawn"]


def test_unacknowledged_breach_escalates_once(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A firing warning left unacknowledged for 30 min becomes critical, with an escalated event."""
    conn, engine = open_engine(settings, catalog, clock)
    t0 = clock.wall()
    for k in range(40):  # 40 min of light, one batch a minute
        lights = [LightReading("fridge-1-lux", t0 + 60 * k + i, 300.0) for i in range(60)]
        clock.advance(60)
        engine.ingest(Batch(light=lights), clock.wall())
    (a,) = by_rule(conn, "light-exposure")
    assert a.severity == "critical"
    assert a.escalated_ts is not None
    assert a.fired_ts is not None
    assert a.escalated_ts - a.fired_ts >= 1800.0
    assert [e.kind for e in alerts.events(conn, a.id)].count("escalated") == 1
    assert json.loads(a.snapshot)["rule"]["severity"] == "warning"  # the snapshot keeps what fired


def test_vial_alert_snapshot_carries_model_constants(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A potency alert keeps the drug's and form's constants, with their provenance, as they were."""
    conn, engine = open_engine(settings, catalog, clock)
    t0 = clock.wall()
    for k in range(12):
        lights = [LightReading("fridge-1-lux", t0 + 300 * k + i, 600.0) for i in range(300)]
        clock.advance(300)
        engine.ingest(Batch(light=lights), clock.wall())
    potency = by_rule(conn, "potency-warning")
    assert potency
    model = json.loads(potency[0].snapshot)["model"]
    assert model["drug"] == "mecobalamin"
    assert model["drug_constants"]["k_thin_per_lux_hour"]["provenance"] in {"sourced", "derived", "assumed"}
    assert "concentration_mg_per_ml" in model["form_constants"]


def test_migration_keeps_existing_alerts_and_hold_timers(tmp_path: Path) -> None:
    """Upgrading a skeleton database keeps its alerts, events, cursor and the timers of rules in progress."""
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    for version in range(2):
        for statement in _statements(MIGRATIONS[version]):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version + 1}")
    conn.execute("INSERT INTO locations (id, key, name, kind) VALUES (1, 'f', 'F', 'fridge')")
    conn.execute(
        "INSERT INTO alerts (id, fingerprint, rule, severity, state, location_id, started_ts, fired_ts,"
        " message, seq) VALUES (7, 'light-exposure:location:1', 'light-exposure', 'warning', 'firing', 1,"
        " 10, 70, 'light', 0)"
    )
    for kind in ("fired", "acknowledged"):
        conn.execute("INSERT INTO alert_events (alert_id, ts, kind) VALUES (7, 70, ?)", (kind,))
    conn.execute("UPDATE alerts SET seq = 2")
    conn.execute("INSERT INTO rule_state VALUES ('temperature-range:location:1', 123.0)")
    assert migrate(conn) == 2
    (a,) = alerts.changed_since(conn, 0)
    assert (a.id, a.state, a.seq, a.alert_class, a.snapshot) == (7, "firing", 2, "data", "{}")
    assert alerts.latest_seq(conn) == 2
    assert json.loads(alerts.rule_timers(conn)["temperature-range:location:1"]) == {"since": 123.0}
    alerts.update(conn, 7, 80, 500.0, "worse")
    assert alerts.latest_seq(conn) == 3  # the change sequence continues where it was
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_resolved_alerts_are_purged_after_the_retention_window(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Resolved alerts older than the retention go with their events; newer ones and the cursor stay."""
    conn, _ = open_engine(settings, catalog, clock)
    engine = Engine(conn, catalog, default_rules(settings.rules.thresholds()), alert_retention_seconds=86_400)
    now = clock.wall()
    ids = []
    for ended in (now - 2 * 86_400, now - 3600):
        new = alerts.NewAlert(
            "fp", "light-exposure", "warning", None, None, None, ended - 60, ended, 1.0, "m"
        )
        alert_id = alerts.open_alert(conn, new)
        alerts.resolve(conn, alert_id, ended, "cleared")
        ids.append(alert_id)
    latest = alerts.latest_seq(conn)
    engine.ingest(Batch(), now)
    assert [a.id for a in alerts.changed_since(conn, 0) if a.fingerprint == "fp"] == [ids[1]]
    assert alerts.events(conn, ids[0]) == []
    assert alerts.latest_seq(conn) >= latest
    before = alerts.latest_seq(conn)
    assert alerts.purge_resolved(conn, now + 1) >= 1  # the newest changes go too: the cursor does not
    assert alerts.latest_seq(conn) == before
