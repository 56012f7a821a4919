"""Bring the database in line with the configuration: locations, sensors, and vials declared in it."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, time

from monitor.alerts.rules import alert_limits
from monitor.config import Settings
from monitor.store import config_mirror, location_light, sites
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from monitor.version import version


def sync_site(conn: sqlite3.Connection, settings: Settings, now: float) -> None:
    """Upsert locations and sensors by key, and the settings the verdict reads; register configured vials
    not yet known (at ``now``).

    Idempotent: run on every start. Vials already registered keep their history; the configuration only
    seeds new ones.
    """
    with transaction(conn):
        for loc in settings.locations:
            loc_id = sites.upsert_location(conn, loc.key, loc.name, loc.kind)
            location_light.configure(conn, loc_id, loc.lamp, loc.worst_case_lux)
        for s in settings.sensors:
            cal = s.calibration
            due = None
            if cal.due_on is not None:  # due through the whole of that day, UTC
                due = datetime.combine(cal.due_on, time.max, tzinfo=UTC).timestamp()
            sites.upsert_sensor(
                conn,
                sites.SensorSpec(
                    s.key,
                    s.location,
                    s.quantity,
                    s.driver,
                    s.interval,
                    s.max_gap,
                    cal.certificate_id,
                    due,
                    cal.expanded_uncertainty,
                ),
            )
        rules = settings.rules.thresholds()
        profiles = settings.drug_profiles_file
        digest = None if profiles is None else hashlib.sha256(profiles.read_bytes()).hexdigest()
        config_mirror.record_settings(
            conn,
            warning_percent=rules.potency_warning_percent,
            critical_percent=rules.potency_critical_percent,
            drug_profiles_sha256=digest,
            version=version(),
            rule_limits=alert_limits(rules),
        )
        for v in settings.vials:
            if vial_store.by_key(conn, v.key) is not None:
                continue
            vial_store.register(
                conn,
                key=v.key,
                drug=v.drug,
                form=v.form,
                lot=v.lot,
                expiry=v.expiry,
                initial_potency_percent=v.initial_potency_percent,
                location_id=sites.location_by_key(conn, v.location).id,
                packaging=v.packaging,
                ts=now,
                recorded_ts=now,
            )
