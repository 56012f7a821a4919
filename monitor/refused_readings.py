"""Readings refused as impossible: one system alert per sensor while it sends them.

Whichever entry refused a value (the serial source, the acquisition loop, the engine itself for a replayed
spool), the sensor gets an ``out-of-range`` fault in the batch. The first one opens a system alert naming the
sensor and what was wrong; it stays open, however many follow, and resolves when the sensor gives a reading
that is possible again. The refusals themselves are counted where they happened: per port and kind for
serial input (``serial_rejects``), per sensor and kind for the others (``sensor_faults``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping

from monitor.plausibility import OUT_OF_RANGE
from monitor.store import alerts as alert_store
from monitor.store import system_alerts
from monitor.store.sites import SensorRecord

RULE = "impossible-reading"


def fingerprint(sensor_key: str) -> str:
    return f"{RULE}:system:{sensor_key}"


def apply(
    conn: sqlite3.Connection,
    faults: Iterable[tuple[str, str, str]],
    read: Iterable[str],
    sensors: Mapping[str, SensorRecord],
    now: float,
) -> int:
    """Open or resolve the alerts, in the caller's transaction; returns the alert changes made.

    ``faults``: the batch's ``(sensor key, kind, detail)``; ``read``: the keys of the sensors with a reading
    stored in it."""
    refused: dict[str, str] = {}
    for key, kind, detail in faults:
        if kind == OUT_OF_RANGE:
            refused.setdefault(key, detail)
    good = set(read) - set(refused)
    if not refused and not (good and _any_open(conn)):
        return 0  # the common batch: nothing refused, no alert to resolve
    open_by_fp = alert_store.open_alerts(conn)
    changes = 0
    for key, detail in refused.items():
        sensor = sensors.get(key)
        if sensor is None or fingerprint(key) in open_by_fp:
            continue
        message = (
            f"impossible reading from sensor {key}: {detail}; refused (not stored), the sensor's readings"
            " are faults until it reports possible values again: check its wiring and its chip"
        )
        alert = system_alerts.system_alert(
            fingerprint(key), RULE, "warning", 1.0, message, now, snapshot=json.dumps({"sensor": key})
        )
        changes += system_alerts.hold(conn, True, alert, "", now, open_by_fp)
    for key in good:
        current = open_by_fp.get(fingerprint(key))
        if current is not None:
            alert_store.resolve(conn, current.id, now, f"sensor {key} reports possible values again")
            changes += 1
    return changes


def _any_open(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM alerts WHERE rule = ? AND state != 'resolved' LIMIT 1", (RULE,))
    return row.fetchone() is not None
