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


def system_alert(
    fingerprint: str,
    rule: str,
    severity: alert_store.Severity,
    value: float,
    message: str,
    now: float,
    *,
    started_ts: float | None = None,
    snapshot: str = "{}",
) -> alert_store.NewAlert:
    """A system alert firing at ``now`` (no subject); ``started_ts`` when the condition began earlier."""
    return alert_store.NewAlert(
        fingerprint=fingerprint,
        rule=rule,
        severity=severity,
        location_id=None,
        vial_id=None,
        sensor_id=None,
        started_ts=now if started_ts is None else started_ts,
        fired_ts=now,
        value=value,
        message=message,
        alert_class="system",
        snapshot=snapshot,
    )


def hold(
    conn: sqlite3.Connection,
    breached: bool,
    alert: alert_store.NewAlert,
    cleared: str,
    now: float,
    open_by_fp: dict[str, alert_store.AlertRecord] | None = None,
) -> int:
    """Fire ``alert`` while ``breached`` and none is open, resolve the open one (with ``cleared``) once
    not; inside the caller's write transaction. Returns the alert changes made (0 or 1)."""
    current = (alert_store.open_alerts(conn) if open_by_fp is None else open_by_fp).get(alert.fingerprint)
    if breached and current is None:
        alert_store.fire(conn, alert)
        return 1
    if not breached and current is not None:
        alert_store.resolve(conn, current.id, now, cleared)
        return 1
    return 0


def reconcile(conn: sqlite3.Connection, findings: list[Finding], limits: SystemLimits, now: float) -> int:
    """Open or resolve system alerts to match the findings; inside the caller's write transaction."""
    open_by_fp = alert_store.open_alerts(conn)
    changes = 0
    for f in findings:
        name = f.check.name
        snapshot = json.dumps({"check": name, "limits": asdict(limits)})
        alert = system_alert(
            fingerprint(name), name, f.check.severity, f.value, f.message, now, snapshot=snapshot
        )
        changes += hold(conn, f.breached, alert, f"cleared: {f.message}", now, open_by_fp)
    return changes
