"""SQL the uplink's outbox triggers are built from: the real clock, the enabled test, exact REAL values as
JSON, a key by id, and the trigger that copies a row as JSON (:mod:`monitor.store.outbox`,
:mod:`monitor.store.config_mirror`)."""

from __future__ import annotations

# The real clock, in SQLite: when a row was queued, for the backlog's age (Python's sqlite3 on Debian 12
# predates unixepoch('subsec')).
NOW = "((julianday('now') - 2440587.5) * 86400.0)"
ENABLED = "EXISTS (SELECT 1 FROM uplink_state)"


def real(expr: str) -> str:
    """A REAL as JSON, bit for bit: SQLite's json_object writes 15 significant digits (1796175627.60382
    for 1796175627.6038153), which would change an audit row's hashed time on its way to central; 17
    digits read back as the same double."""
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE json(printf('%!.17g', {expr})) END"


def key_of(table: str, id_expr: str) -> str:
    return f"(SELECT key FROM {table} WHERE id = {id_expr})"


def copy_trigger(name: str, event: str, table: str, kind: str, body: str, when: str = "") -> str:
    condition = f"{when} AND {ENABLED}" if when else ENABLED
    return f"""
    CREATE TRIGGER {name} AFTER {event} ON {table} WHEN {condition}
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('{kind}', {body}, {NOW});
    END;"""
