"""The schema's migrations, one module each, in the order they run; ``PRAGMA user_version`` counts those run.

Never edit a migration that has shipped: append a new one. A migration is a module ``vNN_what.py`` holding
its reason as the docstring and its statements as ``SQL`` (units in column names); adding one is adding
its module and one line at the end of :data:`NAMES`. Then regenerate ``monitor/store/schema.sql`` with
``python -m monitor.store.schema_sql`` (``tests/monitor/test_schema.py`` compares it with a freshly
migrated database).

The alert words in CHECK constraints come from :mod:`monitor.alerts.vocabulary`. A migration renders them
when it runs, so a word added there reaches only databases created afterwards: one added to the vocabulary
needs a migration that rebuilds the table whose CHECK names it (see v04), and ``schema.sql`` shows the
change.
"""

from __future__ import annotations

import importlib

NAMES: tuple[str, ...] = (
    "v01_skeleton",
    "v02_sensor_calibration",
    "v03_location_light",
    "v04_alert_lifecycle",
    "v05_spectral",
    "v06_serial_frames",
    "v07_api_tokens",
    "v08_audit_log",
    "v09_webhook_outbox",
    "v10_durability",
    "v11_heartbeat_lag",
    "v12_serial_rejects",
    "v13_token_expiry",
    "v14_light_hour_maxima",
    "v15_clocks",
    "v16_potency_read_indexes",
    "v17_uplink_outbox",
    "v18_config_mirror",
    "v19_fleet_commands",
    "v20_vial_handover",
    "v21_measured_spectrum_ledger",
    "v22_outbox_chain",
    "v23_rule_limits",
)


def _sql(name: str) -> str:
    sql = importlib.import_module(f"{__name__}.{name}").SQL
    if not isinstance(sql, str):
        raise TypeError(f"migration {name}: SQL is not a string")
    return sql


def _foreign_keys_off(name: str) -> bool:
    """Whether the migration rebuilds a table other tables reference: it runs with foreign keys off and
    renames without rewriting triggers (SQLite's procedure for a table change), checked before commit."""
    return bool(getattr(importlib.import_module(f"{__name__}.{name}"), "FOREIGN_KEYS_OFF", False))


MIGRATIONS: tuple[str, ...] = tuple(_sql(name) for name in NAMES)
REBUILDS: frozenset[int] = frozenset(i for i, name in enumerate(NAMES) if _foreign_keys_off(name))
