"""The site's configuration in the uplink's outbox: each location, sensor, vial and the report lag as an
upsert in the transaction that changes it, only when it changes, and back-filled when the uplink starts."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from hardware.clock import ManualClock
from monitor.alerts.rules import alert_limits
from monitor.config import Settings
from monitor.model.profiles import Catalog
from monitor.site_sync import sync_site
from monitor.store import Database, location_light, outbox
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from monitor.store.migrations import MIGRATIONS
from monitor.store.spectral import SPECTRUM_COLUMNS
from monitor.version import version
from tests.monitor.test_engine import run_simulation


def _config_rows(conn: sqlite3.Connection, after: int = 0) -> list[tuple[str, dict[str, Any]]]:
    rows = conn.execute(
        "SELECT kind, body FROM uplink_outbox WHERE seq > ?"
        " AND kind IN ('location', 'sensor', 'vial', 'site-setting') ORDER BY seq",
        (after,),
    ).fetchall()
    return [(str(k), json.loads(b)) for k, b in rows]


def test_enabling_queues_the_configuration_before_any_reading(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A site joining the fleet sends its locations, sensors, vials and report lag first, as they stand."""
    conn = run_simulation(settings, catalog, clock, 120)
    with transaction(conn):
        outbox.enable(conn, "ward-3")
    kinds = [k for (k,) in conn.execute("SELECT kind FROM uplink_outbox ORDER BY seq").fetchall()]
    assert kinds[:7] == ["location", "sensor", "sensor", "vial", "vial", "vial", "vial"]
    assert kinds[7] == "site-setting"
    assert "light" in kinds[8:]
    config = _config_rows(conn)
    assert config[0][1] == {
        "id": 1,
        "key": "fridge-1",
        "name": "Pharmacy fridge 1",
        "kind": "fridge",
        "lamp": None,
        "worst_case_lux": None,
    }
    sensor = config[1][1]
    assert sensor["key"] == "fridge-1-lux"
    assert sensor["location"] == "fridge-1"
    assert sensor["quantity"] == "light"
    assert sensor["interval_seconds"] == 1.0
    assert sensor["spectral"] is False
    assert sensor["near_uv"] is False
    vial = dict(_config_rows(conn))["vial"]
    assert set(vial) == {
        "id",
        "key",
        "drug",
        "form",
        "lot",
        "expiry",
        "initial_potency_percent",
        "registered_ts",
        "status",
    }
    setting = dict(_config_rows(conn))["site-setting"]
    assert setting == {
        "report_lag_seconds": conn.execute("SELECT report_lag_seconds FROM heartbeat").fetchone()[0],
        "potency_warning_percent": settings.rules.thresholds().potency_warning_percent,
        "potency_critical_percent": settings.rules.thresholds().potency_critical_percent,
        "drug_profiles_sha256": None,
        "vialguard_version": version(),
        "rule_limits": alert_limits(settings.rules.thresholds()),
    }


def test_a_change_queues_one_upsert_and_no_change_queues_none(settings: Settings, clock: ManualClock) -> None:
    """Restarting with the same configuration queues nothing; a lamp set, a vial administered each queue
    the row as it now stands, in the same transaction."""
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    with transaction(conn):
        outbox.enable(conn, "ward-3")
    sync_site(conn, settings, clock.wall())
    first = outbox.last_seq(conn)
    assert [k for k, _ in _config_rows(conn)].count("vial") == 4
    sync_site(conn, settings, clock.wall() + 60)
    assert outbox.last_seq(conn) == first
    with transaction(conn):
        location_light.configure(conn, 1, "led-4000k", 250.0)
    assert _config_rows(conn, first) == [
        (
            "location",
            {
                "id": 1,
                "key": "fridge-1",
                "name": "Pharmacy fridge 1",
                "kind": "fridge",
                "lamp": "led-4000k",
                "worst_case_lux": 250.0,
            },
        )
    ]
    vial = vial_store.by_key(conn, "roze-0001")
    assert vial is not None
    second = outbox.last_seq(conn)
    with transaction(conn):
        vial_store.add_event(
            conn,
            vial_id=vial.id,
            ts=clock.wall() + 120,
            kind="administered",
            location_id=None,
            packaging=None,
            detail="",
            recorded_ts=clock.wall() + 120,
        )
    changed = _config_rows(conn, second)
    assert [(k, r["key"], r["status"]) for k, r in changed] == [("vial", "roze-0001", "administered")]


def test_migration_18_back_fills_a_database_already_uplinking(settings: Settings, clock: ManualClock) -> None:
    """A site that joined the fleet before configuration travelled sends it when it migrates, and its
    settings on its next start."""
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, clock.wall())
    with transaction(conn):
        outbox.enable(conn, "ward-3")
    conn.execute("DELETE FROM uplink_outbox")  # as it stood under migration 17: nothing of this kind
    index = next(i for i, m in enumerate(MIGRATIONS) if "location_to_uplink" in m)
    for later in ("site_model_settings", "fleet_commands", "vial_handovers"):  # migrations 18-20's
        conn.execute(f"DROP TABLE {later}")
    for (trigger,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%uplink_outbox%'"
        " AND name NOT IN ('light_reading_to_uplink', 'temperature_reading_to_uplink', 'gap_to_uplink',"
        " 'gap_removal_to_uplink', 'vial_event_to_uplink', 'alert_change_to_uplink', 'audit_row_to_uplink')"
    ).fetchall():
        conn.execute(f"DROP TRIGGER {trigger}")
    for column in SPECTRUM_COLUMNS:  # migration 21's
        conn.execute(f"ALTER TABLE spectral_readings DROP COLUMN {column}")
    for column in ("acked_digest", "parent_epoch", "epoch_reason"):  # migration 22's
        conn.execute(f"ALTER TABLE uplink_state DROP COLUMN {column}")
    conn.execute(f"PRAGMA user_version = {index}")
    conn.commit()
    conn.close()
    db.initialise()
    conn = db.connect()
    assert [k for k, _ in _config_rows(conn)] == ["location", "sensor", "sensor", *["vial"] * 4]
    sync_site(conn, settings, clock.wall())  # the next start writes the settings the verdict reads
    assert [k for k, _ in _config_rows(conn)][7:] == ["site-setting"]


def test_the_alert_limits_travel_and_a_change_of_them_queues_the_settings(
    settings: Settings, clock: ManualClock
) -> None:
    """The [rules] limits go with the settings; a start with other limits queues the row again, with them;
    a database migrated to 23 sends them on its next start."""
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    with transaction(conn):
        outbox.enable(conn, "ward-3")
    sync_site(conn, settings, clock.wall())
    first = outbox.last_seq(conn)
    rules = settings.rules.model_copy(update={"light_lux": 42.0, "temperature_high_celsius": 7.5})
    sync_site(conn, settings.model_copy(update={"rules": rules}), clock.wall() + 60)
    (changed,) = _config_rows(conn, first)
    assert changed[0] == "site-setting"
    assert changed[1]["rule_limits"] == alert_limits(rules.thresholds())
    assert changed[1]["rule_limits"]["light_lux"] == 42.0
    with transaction(conn):  # as migration 23 leaves a database: no limits until the next start
        conn.execute("UPDATE site_model_settings SET rule_limits = NULL")
    (cleared,) = _config_rows(conn, outbox.last_seq(conn) - 1)
    assert cleared[1]["rule_limits"] is None
    second = outbox.last_seq(conn)
    sync_site(conn, settings, clock.wall() + 120)
    (sent,) = _config_rows(conn, second)
    assert sent[1]["rule_limits"] == alert_limits(settings.rules.thresholds())
