"""System alerts in the store: one open alert per breached check, resolved when the check passes again.

They live in the alerts table like every alert (class ``system``, subject none), so pollers, webhooks,
silences and acknowledgements treat them alike. The engine leaves them alone: it only acts on alerts of its
own rules.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict

from monitor.store import alerts as alert_store
from monitor.system_checks import Finding, SystemLimits


def fingerprint(check_name: str) -> str:
    return f"{check_name}:system"


def reconcile(conn: sqlite3.Connection, findings: list[Finding], limits: SystemLimits, now: float) -> int:
    """Open or resolve system alerts to match the findings; inside the caller's write transaction."""
    open_by_fp = alert_store.open_alerts(conn)
    changes = 0
    for f in findings:
        fp = fingerprint(f.check.name)
        current = open_by_fp.get(fp)
        if f.breached and current is None:
            snapshot = json.dumps({"check": f.check.name, "limits": asdict(limits)})
            new = alert_store.NewAlert(
                fingerprint=fp,
                rule=f.check.name,
                severity=f.check.severity,
                location_id=None,
                vial_id=None,
                sensor_id=None,
                started_ts=now,
                fired_ts=now,
                value=f.value,
                message=f.message,
                alert_class="system",
                snapshot=snapshot,
            )
            alert_store.open_alert(conn, new)
            changes += 1
        elif not f.breached and current is not None:
            alert_store.resolve(conn, current.id, now, f"cleared: {f.message}")
            changes += 1
    return changes
