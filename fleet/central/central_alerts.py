"""Central's own alerts: what central finds about a site that the site cannot tell (rows central holds
apart, :mod:`fleet.central.record_conflicts`), raised into the fleet's alert feed beside the sites' own.

Each alert stands in ``central_alerts`` (one standing per site and rule, a unique index says so) and each
change goes into the feed (:mod:`fleet.central.alert_feed`) in the shape of a site's alert change, under
the feed's site :data:`CENTRAL` (no site can be named so: a site's name is ``[a-z0-9][a-z0-9._-]*``),
with ``concerns_site`` in the record naming the site it concerns. So a site's own alerts at central
(``/sites/{site}/api/v1/alerts``) stay the site's, and the feed's readers see central's alerts in the
same order as every change. A change is made in the transaction that found its cause.

An alert of central's ends as it began, at central: an operator (a ``write`` token) acknowledges it
(``POST /api/v1/fleet/central-alerts/{id}/acknowledge``), which resolves it, records who and why in
central's audit trail and adds the change to the feed, in one transaction. Acknowledging says what the
alert told of has been seen: what arrives after raises a new alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from fleet.central import alert_feed, central_audit
from monitor.alerts.vocabulary import AlertState, Severity
from monitor.errors import InvalidRequest, NotFound

Connection = psycopg.Connection[tuple[Any, ...]]

# The feed's site for central's own alerts.
CENTRAL = "@central"
# How central's audit trail names an operator (as for the commands, fleet.central.commands).
OPERATOR_PREFIX = "operator:"


@dataclass(frozen=True, slots=True)
class Standing:
    """The alert standing for a site and rule (``record`` None: none stood, ``id`` is a new one's)."""

    id: int
    record: dict[str, Any] | None


def standing(conn: Connection, site: str, rule: str) -> Standing:
    """The alert that stands for ``site`` and ``rule``, locked for the caller's transaction; else the id
    a new one takes (from the counter, moved in this transaction)."""
    found = conn.execute(
        "SELECT id, record FROM central_alerts WHERE site = %s AND rule = %s AND state <> 'resolved'"
        " FOR UPDATE",
        (site, rule),
    ).fetchone()
    if found is not None:
        return Standing(int(found[0]), dict(found[1]))
    counter = conn.execute(
        "UPDATE fleet_counters SET value = value + 1 WHERE name = 'central_alerts' RETURNING value"
    ).fetchone()
    assert counter is not None
    return Standing(int(counter[0]), None)


def fire(
    conn: Connection,
    alert: Standing,
    site: str,
    rule: str,
    severity: Severity,
    value: float,
    message: str,
    at: datetime,
) -> dict[str, Any]:
    """Raise ``alert`` (new) or update it (standing) with ``value`` and ``message``; the change into the
    feed. Returns the alert as it now stands."""
    ts = at.timestamp()
    before = alert.record
    record = {
        "id": alert.id,
        "fingerprint": f"central:{rule}:{site}",
        "rule": rule,
        "severity": severity,
        "state": "firing",
        "alert_class": "system",
        "concerns_site": site,
        "location": None,
        "vial": None,
        "sensor": None,
        "started_ts": ts if before is None else before["started_ts"],
        "fired_ts": ts if before is None else before["fired_ts"],
        "ended_ts": None,
        "value": value,
        "worst_value": value if before is None else max(value, float(before["worst_value"])),
        "message": message,
        "acknowledged_by": None,
        "acknowledgement_comment": None,
        "ack_ts": None,
        "escalated_ts": None,
        "silence_id": None,
    }
    return _change(conn, record, "fired" if before is None else "updated", message, at)


def acknowledge(
    conn: Connection, alert_id: int, by: str, comment: str, operator: str, at: datetime
) -> dict[str, Any]:
    """An operator has seen what central's alert ``alert_id`` told of: it resolves, with who and why, in
    the feed and in central's audit trail, in one transaction. :class:`NotFound` for no such alert,
    :class:`InvalidRequest` for one already resolved."""
    with conn.transaction():
        found = conn.execute(
            "SELECT state, record FROM central_alerts WHERE id = %s FOR UPDATE", (alert_id,)
        ).fetchone()
        if found is None:
            raise NotFound(f"central has raised no alert with id {alert_id}")
        if found[0] == "resolved":
            raise InvalidRequest(
                f"central's alert {alert_id} is already resolved; there is nothing to acknowledge"
            )
        ts = at.timestamp()
        record = dict(found[1]) | {
            "state": "resolved",
            "ended_ts": ts,
            "acknowledged_by": by,
            "acknowledgement_comment": comment,
            "ack_ts": ts,
        }
        changed = _change(conn, record, "resolved", f"acknowledged by {by}: {comment}", at)
        central_audit.append(
            conn,
            ts,
            OPERATOR_PREFIX + operator,
            "central-alert.acknowledged",
            f"central-alert:{alert_id}",
            {"by": by, "comment": comment, "site": record["concerns_site"], "rule": record["rule"]},
        )
    return changed


def _change(conn: Connection, record: dict[str, Any], kind: str, detail: str, at: datetime) -> dict[str, Any]:
    """Store the alert as it now stands and its change, numbered, into the feed."""
    seq = conn.execute(
        "UPDATE fleet_counters SET value = value + 1 WHERE name = 'central_alert_events' RETURNING value"
    ).fetchone()
    assert seq is not None
    state: AlertState = record["state"]
    changed = record | {
        "event_seq": int(seq[0]),
        "event_kind": kind,
        "event_ts": at.timestamp(),
        "event_detail": detail,
    }
    conn.execute(
        "INSERT INTO central_alerts (id, site, rule, state, record) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (id) DO UPDATE SET state = excluded.state, record = excluded.record",
        (record["id"], record["concerns_site"], record["rule"], state, Jsonb(changed)),
    )
    alert_feed.append(conn, CENTRAL, [changed], at)
    return changed
