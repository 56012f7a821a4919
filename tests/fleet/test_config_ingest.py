"""A site's configuration reaches central's tables as it stands at the site; a row central cannot apply
is refused with its reason, and the rest of its batch, and the site's point, go on."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from fleet.central import fleet_view
from fleet.central.ingest import ingest
from fleet.central.partitions import Partitions
from fleet.central.schema import migrate
from fleet.protocol import Batch, Row
from hardware.clock import ManualClock
from monitor.alerts.rules import alert_limits
from monitor.config import Settings
from monitor.model.profiles import Catalog
from monitor.site_sync import sync_site
from monitor.store import Database, outbox
from monitor.store.database import transaction
from monitor.version import version
from tests.monitor.test_engine import run_simulation

SITE = "ward-3"


def _site(settings: Settings, clock: ManualClock) -> sqlite3.Connection:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, clock.wall())
    with transaction(conn):
        outbox.enable(conn, SITE)
    return conn


def _batch(site: sqlite3.Connection, rows: list[Row]) -> Batch:
    state = outbox.state(site)
    assert state is not None
    assert state.epoch is not None
    return Batch(SITE, state.epoch, state.epoch_base_seq, tuple(rows), 1796175700.0, rows[-1].seq, None)


def _send_all(site: sqlite3.Connection, pg: psycopg.Connection[tuple[Any, ...]]) -> int:
    rows = [Row(r.seq, r.kind, r.record) for r in outbox.pending(site, 0, 100_000)]
    return ingest(pg, Partitions(), _batch(site, rows), 1796175700.5).ack.through


def test_the_configuration_at_central_is_the_sites(
    settings: Settings, clock: ManualClock, postgres: str
) -> None:
    """Locations, sensors (with the site's ids, so the first declared stays first), vials and settings."""
    site = _site(settings, clock)
    with psycopg.connect(postgres) as pg:
        migrate(pg)
        _send_all(site, pg)
        locations = pg.execute("SELECT site_id, key, lamp, worst_case_lux FROM site_locations").fetchall()
        sensors = pg.execute(
            "SELECT s.site_id, s.key, l.key, s.quantity, s.interval_seconds, s.max_gap_seconds"
            " FROM site_sensors s JOIN site_locations l ON (l.site, l.site_id) = (s.site, s.location_id)"
            " ORDER BY s.site_id"
        ).fetchall()
        vials = pg.execute(
            "SELECT site_id, key, drug, form, initial_potency_percent, registered_ts, status FROM site_vials"
            " ORDER BY site_id"
        ).fetchall()
        thresholds = pg.execute(
            "SELECT potency_warning_percent, potency_critical_percent FROM site_settings WHERE site = %s",
            (SITE,),
        ).fetchone()
        facts = fleet_view.site_facts(pg)[SITE]
    assert locations == site.execute("SELECT id, key, lamp, worst_case_lux FROM locations").fetchall()
    assert (
        sensors
        == site.execute(
            "SELECT s.id, s.key, l.key, s.quantity, s.interval_seconds, s.max_gap_seconds FROM sensors s"
            " JOIN locations l ON l.id = s.location_id ORDER BY s.id"
        ).fetchall()
    )
    assert (
        vials
        == site.execute(
            "SELECT id, key, drug, form, initial_potency_percent, registered_ts, status FROM vials"
            " ORDER BY id"
        ).fetchall()
    )
    rules = settings.rules.thresholds()
    assert thresholds == (rules.potency_warning_percent, rules.potency_critical_percent)
    assert facts.rule_limits is not None
    assert dict(facts.rule_limits) == alert_limits(rules)


def test_a_sensor_naming_an_unknown_location_is_refused_and_nothing_else_lost(
    settings: Settings, clock: ManualClock, postgres: str
) -> None:
    """A sensor row naming a location central does not hold is kept apart with the reason; the reading
    and the vial in the same batch are stored, and the site's point passes the refused row."""
    site = _site(settings, clock)
    with psycopg.connect(postgres) as pg:
        migrate(pg)
        through = _send_all(site, pg)
        bad = {
            "id": 9,
            "key": "cabinet-9-lux",
            "location": "cabinet-9",
            "quantity": "light",
            "driver": "tsl2591",
            "interval_seconds": 1.0,
            "max_gap_seconds": 30.0,
            "status": "unknown",
            "status_detail": "",
            "status_since": None,
            "calibration_certificate": None,
            "calibration_due_ts": None,
            "calibration_uncertainty": None,
            "spectral": False,
            "near_uv": False,
        }
        reading = {"sensor": "fridge-1-lux", "ts": 1767225600.5, "lux": 3.0, "saturated": False}
        reading["cum_lux_hours"] = 0.0
        vial = {
            "id": 5,
            "key": "roze-0005",
            "drug": "mecobalamin",
            "form": "rozebalamin-25mg",
            "lot": "RZ24A02",
            "expiry": None,
            "initial_potency_percent": 100.0,
            "registered_ts": 1767225600.25,
            "status": "active",
        }
        rows = [
            Row(through + 1, "sensor", bad),
            Row(through + 2, "light", reading),
            Row(through + 3, "vial", vial),
            Row(through + 4, "vial", {**vial, "id": 6, "status": "lost"}),
        ]
        done = ingest(pg, Partitions(), _batch(site, rows), 1796175701.0)
        refusals = pg.execute("SELECT seq, kind, problem FROM config_refusals ORDER BY seq").fetchall()
        sensors = {k for (k,) in pg.execute("SELECT key FROM site_sensors").fetchall()}
        vials = {k for (k,) in pg.execute("SELECT key FROM site_vials").fetchall()}
        readings = pg.execute("SELECT count(*) FROM light_readings").fetchone()
        stored = pg.execute(
            "SELECT count(*) FROM site_records WHERE kind = 'sensor' AND seq = %s", (through + 1,)
        )
        kept_verbatim = stored.fetchone()
    assert done.ack.through == through + 4
    assert done.ack.refused_first is None
    assert [(seq, kind) for seq, kind, _ in refusals] == [(through + 1, "sensor"), (through + 4, "vial")]
    assert refusals[0][2] == (
        f"sensor row {through + 1}: sensor 'cabinet-9-lux' names location 'cabinet-9', which central does"
        " not hold for site 'ward-3' (a location row must come first)"
    )
    assert "breaks a rule of central's schema" in refusals[1][2]
    assert "cabinet-9-lux" not in sensors
    assert "roze-0005" in vials
    assert readings == (1,)
    assert kept_verbatim == (1,)  # the record itself is kept, as every numbered row is


def test_a_row_missing_a_field_is_refused_naming_it(tmp_path: Path, postgres: str) -> None:
    """A location without its key says which field is wrong."""
    db = Database(tmp_path / "site.db")
    db.initialise()
    site = db.connect()
    with transaction(site):
        outbox.enable(site, SITE)
    with psycopg.connect(postgres) as pg:
        migrate(pg)
        row = Row(1, "location", {"id": 1, "name": "Fridge", "kind": "fridge"})
        ingest(pg, Partitions(), _batch(site, [row]), 1796175701.0)
        problem = pg.execute("SELECT problem FROM config_refusals").fetchone()
    assert problem == ("location row 1: key: a non-empty text is required, got None",)


def test_alert_limits_that_are_not_numbers_are_refused_naming_them(tmp_path: Path, postgres: str) -> None:
    """A settings row whose limits are not an object of numbers is refused, and central holds none."""
    db = Database(tmp_path / "site.db")
    db.initialise()
    site = db.connect()
    with transaction(site):
        outbox.enable(site, SITE)
    with psycopg.connect(postgres) as pg:
        migrate(pg)
        row = Row(1, "site-setting", {"report_lag_seconds": 0.0, "rule_limits": {"light_lux": "bright"}})
        ingest(pg, Partitions(), _batch(site, [row]), 1796175701.0)
        problem = pg.execute("SELECT problem FROM config_refusals").fetchone()
        held = pg.execute("SELECT count(*) FROM site_settings").fetchone()
    assert problem is not None
    assert problem[0].startswith("site-setting row 1: rule_limits: an object of numbers is required")
    assert held == (0,)


def test_a_location_with_a_spectral_sensor_is_refused_not_answered_differently(
    settings: Settings, clock: ManualClock, postgres: str, catalog: Catalog
) -> None:
    """Once the site's light sensor gives a spectral reading, the site measures κ_s from ledgers that stay
    at the site: central gives its vials there no verdict and says why, rather than one from the lamp."""
    site = _site(settings, clock)
    with transaction(site):
        site.execute(
            "INSERT INTO spectral_readings (sensor_id, ts, chip, channels, counts, gain, integration_ms, lux,"
            " kappa, cum_spectral_lux_hours, cum_kappa_lux_hours, cum_near_uv_wh_per_m2)"
            " VALUES ((SELECT id FROM sensors WHERE key = 'fridge-1-lux'), ?, 'as7341', '[]', '[]', 1, 100,"
            " 0, NULL, 0, 0, 0)",
            (clock.wall(),),
        )
    with psycopg.connect(postgres) as pg:
        migrate(pg)
        _send_all(site, pg)
        vials = fleet_view.fleet_vials(pg, catalog, clock.wall(), at=clock.wall())
    assert {v.key: v.refused for v in vials} == dict.fromkeys(
        ("roze-0001", "roze-0002", "methy-0001", "infusion-0001"),
        "the light at 'fridge-1' is measured by the spectral sensor 'fridge-1-lux', whose ledgers stay at"
        " the site: central cannot reproduce the site's κ_s",
    )
    assert all(v.verdict is None for v in vials)


def test_a_site_on_another_version_gets_no_verdict(
    settings: Settings, clock: ManualClock, postgres: str, catalog: Catalog
) -> None:
    """A site running other model code is not judged by central's: every vial says why."""
    site = _site(settings, clock)
    with transaction(site):
        site.execute("UPDATE site_model_settings SET vialguard_version = '0.0.1'")
    with psycopg.connect(postgres) as pg:
        migrate(pg)
        _send_all(site, pg)
        vials = fleet_view.fleet_vials(pg, catalog, clock.wall(), at=clock.wall())
    assert len(vials) == 4
    assert {v.refused for v in vials} == {
        f"the site runs vialguard 0.0.1, central {version()}: central evaluates only with the site's own"
        " model code"
    }


def test_a_vial_needing_readings_central_dropped_is_refused(
    settings: Settings, clock: ManualClock, postgres: str, catalog: Catalog
) -> None:
    """Where central holds a sensor's readings only from a time the site's ledger had already grown by
    (readings dropped by central's retention), a vial whose life starts before it gets no verdict."""
    site = run_simulation(settings, catalog, clock, 600)
    with transaction(site):
        outbox.enable(site, SITE)
    with psycopg.connect(postgres) as pg:
        migrate(pg)
        _send_all(site, pg)
        judged = fleet_view.fleet_vials(pg, catalog, clock.wall(), at=clock.wall())
        assert {v.refused for v in judged} == {None}
        pg.execute(
            "DELETE FROM light_readings"
            " WHERE ts < (SELECT min(ts) + interval '5 minutes' FROM light_readings)"
        )
        vials = fleet_view.fleet_vials(pg, catalog, clock.wall(), at=clock.wall())
    assert all(v.verdict is None for v in vials)
    assert all(
        v.refused is not None and v.refused.startswith("central holds 'fridge-1-lux''s readings only from")
        for v in vials
    )
