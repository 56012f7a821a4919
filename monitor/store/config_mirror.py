"""The site's configuration in the uplink's outbox: what central needs to run the potency model itself.

Central evaluates a site's vials with the site's own model code (``fleet/central/model_inputs.py``), so
besides the readings, gaps and vial events it needs what the model reads of the site's configuration:
each location's lamp and worst-case lux, each sensor's location, quantity, interval, allowed gap and
calibration uncertainty (and whether it has given spectral or near-UV readings, whose ledgers do not
travel: central then declines to evaluate, see docs/fleet-protocol.md), each vial's facts, the
bridge's report lag (the commit window a silence must exceed) and the settings the verdict reads
(``site_model_settings``: its thresholds, the extra drug profiles' digest, the code's version) and the
alert limits of ``[rules]`` the site's dashboard and reports read (its light and temperature limits:
central serves the site's API with them, migration 23).

Each is an upsert row, a full snapshot of the row as it stands, queued by triggers in the transaction
that changes it, only when something central reads changed (``sync_site`` rewrites every sensor on each
start; an unchanged one queues nothing). :func:`backfill` queues every one as it stands, when the uplink
is enabled on an existing database and by migration 18 on a database already uplinking.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping

from monitor.model.spectral import SPECTRAL_CHIPS
from monitor.store.outbox_sql import ENABLED, NOW, copy_trigger, key_of, real

_CHIPS = "(" + ", ".join(f"'{name}'" for name in SPECTRAL_CHIPS) + ")"

_LOCATION_COLUMNS = ("key", "name", "kind", "lamp", "worst_case_lux")
_SENSOR_COLUMNS = (
    "key",
    "location_id",
    "quantity",
    "driver",
    "interval_seconds",
    "max_gap_seconds",
    "status",
    "status_detail",
    "status_since",
    "calibration_certificate",
    "calibration_due_ts",
    "calibration_uncertainty",
)
_VIAL_COLUMNS = ("key", "drug", "form", "lot", "expiry", "initial_potency_percent", "registered_ts", "status")


def location_json(r: str) -> str:
    return (
        f"json_object('id', {r}.id, 'key', {r}.key, 'name', {r}.name, 'kind', {r}.kind, 'lamp', {r}.lamp,"
        f" 'worst_case_lux', {real(f'{r}.worst_case_lux')})"
    )


def _has_spectral(sensor_id: str, condition: str) -> str:
    return (
        f"json(CASE WHEN EXISTS (SELECT 1 FROM spectral_readings AS x WHERE x.sensor_id = {sensor_id}"
        f" AND {condition}) THEN 'true' ELSE 'false' END)"
    )


def sensor_json(r: str) -> str:
    """A sensor as it stands; ``spectral``/``near_uv``: it has given readings the site's model measures κ_s
    from (:func:`monitor.store.spectral.spectral_sensor`), which central cannot reproduce."""
    return (
        f"json_object('id', {r}.id, 'key', {r}.key, 'location', {key_of('locations', f'{r}.location_id')},"
        f" 'quantity', {r}.quantity, 'driver', {r}.driver,"
        f" 'interval_seconds', {real(f'{r}.interval_seconds')},"
        f" 'max_gap_seconds', {real(f'{r}.max_gap_seconds')}, 'status', {r}.status,"
        f" 'status_detail', {r}.status_detail, 'status_since', {real(f'{r}.status_since')},"
        f" 'calibration_certificate', {r}.calibration_certificate,"
        f" 'calibration_due_ts', {real(f'{r}.calibration_due_ts')},"
        f" 'calibration_uncertainty', {real(f'{r}.calibration_uncertainty')},"
        f" 'spectral', {_has_spectral(f'{r}.id', f'x.chip IN {_CHIPS}')},"
        f" 'near_uv', {_has_spectral(f'{r}.id', 'x.near_uv_w_per_m2 IS NOT NULL')})"
    )


def vial_json(r: str) -> str:
    return (
        f"json_object('id', {r}.id, 'key', {r}.key, 'drug', {r}.drug, 'form', {r}.form, 'lot', {r}.lot,"
        f" 'expiry', {r}.expiry, 'initial_potency_percent', {real(f'{r}.initial_potency_percent')},"
        f" 'registered_ts', {real(f'{r}.registered_ts')}, 'status', {r}.status)"
    )


# The settings row also before sync_site first wrote them (then those fields are null).
_SETTINGS_SOURCE = "(SELECT 1) LEFT JOIN site_model_settings AS m ON m.id = 1"


def setting_json(*, limits: bool = True) -> str:
    """The site's settings the model and the verdict read, as they stand: the report lag (0 before any
    heartbeat, as :func:`monitor.store.health.report_lag_seconds` reads it), the verdict's thresholds,
    the extra drug profiles' digest and the version of the code that computes; with ``limits`` (from
    migration 23 on) the alert limits the dashboard and reports read (null until ``sync_site`` writes
    them)."""
    rule_limits = ", 'rule_limits', json(m.rule_limits)" if limits else ""
    return (
        "json_object('report_lag_seconds',"
        f" {real('coalesce((SELECT report_lag_seconds FROM heartbeat WHERE id = 1), 0.0)')},"
        f" 'potency_warning_percent', {real('m.potency_warning_percent')},"
        f" 'potency_critical_percent', {real('m.potency_critical_percent')},"
        " 'drug_profiles_sha256', m.drug_profiles_sha256,"
        f" 'vialguard_version', m.vialguard_version{rule_limits})"
    )


def rule_limits_text(limits: Mapping[str, float]) -> str:
    """The limits as the site keeps them: canonical JSON, so an unchanged ``[rules]`` is the same text
    and queues nothing."""
    return json.dumps({k: float(v) for k, v in limits.items()}, sort_keys=True, separators=(",", ":"))


def record_settings(
    conn: sqlite3.Connection,
    *,
    warning_percent: float,
    critical_percent: float,
    drug_profiles_sha256: str | None,
    version: str,
    rule_limits: Mapping[str, float],
) -> None:
    """Keep the model's settings and the alert limits as the configuration gives them (``sync_site``, on
    every start)."""
    conn.execute(
        "INSERT INTO site_model_settings (id, potency_warning_percent, potency_critical_percent,"
        " drug_profiles_sha256, vialguard_version, rule_limits) VALUES (1, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET"
        " potency_warning_percent = excluded.potency_warning_percent,"
        " potency_critical_percent = excluded.potency_critical_percent,"
        " drug_profiles_sha256 = excluded.drug_profiles_sha256,"
        " vialguard_version = excluded.vialguard_version, rule_limits = excluded.rule_limits",
        (warning_percent, critical_percent, drug_profiles_sha256, version, rule_limits_text(rule_limits)),
    )


def _changed(columns: tuple[str, ...]) -> str:
    return "(" + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns) + ")"


def _first_spectral_trigger(name: str, condition: str) -> str:
    """The sensor again when it gives its first reading of a kind the ``spectral``/``near_uv`` flags
    name: one probe of the primary key per spectral reading, a row only on the first."""
    other = condition.replace("NEW.", "x.")
    return f"""
    CREATE TRIGGER {name} AFTER INSERT ON spectral_readings
    WHEN {condition} AND {ENABLED} AND NOT EXISTS (SELECT 1 FROM spectral_readings AS x
        WHERE x.sensor_id = NEW.sensor_id AND x.ts <> NEW.ts AND {other})
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts)
        SELECT 'sensor', {sensor_json("s")}, {NOW} FROM sensors AS s WHERE s.id = NEW.sensor_id;
    END;"""


_SETTINGS_COLUMNS = (
    "potency_warning_percent",
    "potency_critical_percent",
    "drug_profiles_sha256",
    "vialguard_version",
)


def _settings_trigger(name: str, event: str, table: str, when: str, *, limits: bool) -> str:
    condition = f"{when} AND {ENABLED}" if when else ENABLED
    return f"""
    CREATE TRIGGER {name} AFTER {event} ON {table} WHEN {condition}
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts)
        SELECT 'site-setting', {setting_json(limits=limits)}, {NOW} FROM {_SETTINGS_SOURCE};
    END;"""


_SETTINGS_TRIGGER_NAMES = (
    "site_settings_to_uplink",
    "site_settings_change_to_uplink",
    "report_lag_to_uplink",
    "report_lag_change_to_uplink",
)


def _settings_triggers(*, limits: bool) -> str:
    """The settings row queued when it or the report lag changes; ``limits``: as from migration 23, with
    the alert limits in the row and among what counts as a change."""
    columns = (*_SETTINGS_COLUMNS, "rule_limits") if limits else _SETTINGS_COLUMNS
    first, change, lag, lag_change = _SETTINGS_TRIGGER_NAMES
    return (
        _settings_trigger(first, "INSERT", "site_model_settings", "", limits=limits)
        + _settings_trigger(change, "UPDATE", "site_model_settings", _changed(columns), limits=limits)
        + _settings_trigger(lag, "INSERT", "heartbeat", "", limits=limits)
        + _settings_trigger(
            lag_change,
            "UPDATE OF report_lag_seconds",
            "heartbeat",
            "NEW.report_lag_seconds IS NOT OLD.report_lag_seconds",
            limits=limits,
        )
    )


# Apart, because migration 20 rebuilds ``vials`` (dropping its triggers) and must put them back.
VIAL_TRIGGERS = copy_trigger("vial_to_uplink", "INSERT", "vials", "vial", vial_json("NEW")) + copy_trigger(
    "vial_change_to_uplink", "UPDATE", "vials", "vial", vial_json("NEW"), when=_changed(_VIAL_COLUMNS)
)
_TRIGGERS = (
    copy_trigger("location_to_uplink", "INSERT", "locations", "location", location_json("NEW"))
    + copy_trigger(
        "location_change_to_uplink",
        "UPDATE",
        "locations",
        "location",
        location_json("NEW"),
        when=_changed(_LOCATION_COLUMNS),
    )
    + copy_trigger("sensor_to_uplink", "INSERT", "sensors", "sensor", sensor_json("NEW"))
    + copy_trigger(
        "sensor_change_to_uplink",
        "UPDATE",
        "sensors",
        "sensor",
        sensor_json("NEW"),
        when=_changed(_SENSOR_COLUMNS),
    )
    + _first_spectral_trigger("spectral_sensor_to_uplink", f"NEW.chip IN {_CHIPS}")
    + _first_spectral_trigger("near_uv_sensor_to_uplink", "NEW.near_uv_w_per_m2 IS NOT NULL")
    + VIAL_TRIGGERS
)


# Configuration first, in the order central needs it (a sensor names its location), each as it stands.
# The settings only once there are some: a database that never ran holds none.
def _backfill_rows(*, limits: bool) -> tuple[tuple[str, str, str, str, str], ...]:
    return (
        ("location", location_json("r"), "locations AS r", "1", "r.id"),
        ("sensor", sensor_json("r"), "sensors AS r", "1", "r.id"),
        ("vial", vial_json("r"), "vials AS r", "1", "r.id"),
        (
            "site-setting",
            setting_json(limits=limits),
            _SETTINGS_SOURCE,
            "(m.id IS NOT NULL OR EXISTS (SELECT 1 FROM heartbeat))",
            "1",
        ),
    )


def _backfill_statements(*, limits: bool = True) -> tuple[str, ...]:
    """Queue every configuration row as it stands, if the uplink is enabled."""
    return tuple(
        f"INSERT INTO uplink_outbox (kind, body, queued_ts)"
        f" SELECT '{kind}', {body}, {NOW} FROM {source} WHERE {where} AND {ENABLED} ORDER BY {order}"
        for kind, body, source, where, order in _backfill_rows(limits=limits)
    )


def backfill(conn: sqlite3.Connection) -> None:
    """Queue every configuration row as it stands; inside the caller's write transaction, after
    ``uplink_state`` has its row."""
    for statement in _backfill_statements():
        conn.execute(statement)


# Migration 18 (migrations/v18_config_mirror.py): the triggers, and the back-fill of a database whose
# uplink was enabled before them (one not uplinking queues nothing).
_TABLE = """
    -- What the verdict reads of the site's settings file, kept by sync_site on every start: central
    -- decides with the site's own thresholds, and knows whether it runs the site's model and profiles.
    CREATE TABLE site_model_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        potency_warning_percent REAL NOT NULL,
        potency_critical_percent REAL NOT NULL,
        drug_profiles_sha256 TEXT,  -- the extra drug profiles file's digest; null: the shipped ones alone
        vialguard_version TEXT NOT NULL
    );"""
MIGRATION = (
    _TABLE
    + _TRIGGERS
    + _settings_triggers(limits=False)
    + "".join(f"\n    {s};" for s in _backfill_statements(limits=False))
)

# Migration 23 (migrations/v23_rule_limits.py): the alert limits beside the thresholds, and the settings
# triggers again with them. Nothing is queued here: the next start's sync_site writes the limits, which
# is a change, and queues the row.
MIGRATION_23 = (
    """
    -- The [rules] alert limits (light_lux, temperature_low_celsius ...) as canonical JSON, which the
    -- site's dashboard and reports read: central serves the site's API with them. Null: not yet written
    -- by sync_site (a database migrated since the last start).
    ALTER TABLE site_model_settings ADD COLUMN rule_limits TEXT;"""
    + "".join(f"\n    DROP TRIGGER {name};" for name in _SETTINGS_TRIGGER_NAMES)
    + _settings_triggers(limits=True)
)

CONFIG_KINDS = ("location", "sensor", "vial", "site-setting")
