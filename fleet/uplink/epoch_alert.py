"""The system alert a new epoch raises at the site: its database, or central's, was restored.

The uplink draws a new epoch when the database it runs on cannot be the one that sent central its rows: a
backup restored (which drops the epoch), central acknowledging numbers this database never gave, or
central's digest at its point differing from this database's (a copy put back that numbered rows anew).
Nothing is lost at central, which keeps the rows of both timelines, but the site's own record lacks what
the replaced database recorded after the copy was taken: the dose and verdicts this site shows for that
time are computed without those readings. So a pharmacist and whoever looks after the machine must see it,
as a ``system`` alert in the alerts table (the dashboard, ``/api/v1/alerts``, webhooks and central's fleet
feed take it from there like any other alert), raised in the same transaction as the new epoch.

It also draws one when central acknowledges behind the point it acknowledged before: central lost rows it
had committed (its database restored from an older backup). The rows between central's point and this
database's were deleted here on central's acknowledgement and cannot be sent again; central refuses an
epoch with a hole, so the rows still held here go again under a new epoch, and the alert (the same rule,
:data:`CAUSES` ``central-lost``) says how many rows are gone at central for good.

When it ends: once a person has acknowledged it *and* central has acknowledged the new epoch through the
last row this database had numbered when the epoch began. A new epoch is an event, not a condition that
goes back to normal by itself, so the machine catching up must not resolve it before anyone has read it (a
resend takes seconds); and resolving it on the acknowledgement alone would tell the reader the fleet's
record is whole while central still lacks rows of this database. A later epoch resolves the earlier one's
alert (the new one says what happened since).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from monitor.store import alerts as alert_store
from monitor.store.database import transaction
from monitor.store.outbox import UplinkState
from monitor.store.system_alerts import system_alert

RULE = "uplink-new-epoch"
FINGERPRINT = f"{RULE}:system"
# A warning, as the uplink's backlog: nothing is lost at central and nothing stops measuring here, but a
# person must review what this site shows for the time its database lost.
SEVERITY: alert_store.Severity = "warning"


Cause = Literal["site-replaced", "central-lost"]


@dataclass(frozen=True, slots=True)
class EpochFacts:
    """What the alert's snapshot keeps: the epoch, the one it replaced, why, and the point central must
    acknowledge for the alert to end; for ``central-lost``, how many rows central lost for good."""

    epoch: str
    parent: str | None
    reason: str
    through_seq: int  # the last number this database had given when the epoch began
    cause: Cause = "site-replaced"
    lost_at_central: int = 0  # rows central had acknowledged, lost, and this database no longer holds


def _site_replaced(facts: EpochFacts, when: str, replacing: str) -> str:
    return (
        f"this site's database was restored or replaced: {facts.reason}. Since {when} the uplink sends"
        f" every row it holds again as new epoch {facts.epoch}{replacing}; central keeps the rows of both."
        " What the replaced database recorded after the copy was taken is at central only, not here: review"
        " this site's vials and alerts on central for that time, find out who restored or replaced the"
        " database and why, then acknowledge this alert."
    )


def _central_lost(facts: EpochFacts, when: str, replacing: str) -> str:
    rows = f"{facts.lost_at_central} row{'' if facts.lost_at_central == 1 else 's'}"
    return (
        f"central lost rows of this site it had committed (its database restored from an older backup?):"
        f" {facts.reason}. {rows} central had acknowledged were deleted here on that acknowledgement and are"
        f" gone at central for good (readings, events and alert changes this site still keeps in its own"
        f" database, while its retention does). Since {when} the uplink sends every row it still holds"
        f" again as new epoch {facts.epoch}{replacing}. Review this site's vials and alerts on central for"
        " the time those rows cover (central computes them without those readings), find out why central"
        " went back, then acknowledge this alert."
    )


# What the alert says, by what drew the epoch.
CAUSES: dict[Cause, Callable[[EpochFacts, str, str], str]] = {
    "site-replaced": _site_replaced,
    "central-lost": _central_lost,
}


def message(facts: EpochFacts, started_ts: float) -> str:
    when = datetime.fromtimestamp(started_ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    replacing = "" if facts.parent is None else f" (replacing epoch {facts.parent})"
    return (
        CAUSES[facts.cause](facts, when, replacing)
        + f" It resolves once acknowledged and central holds this database's rows through number"
        f" {facts.through_seq}."
    )


def raise_alert(
    conn: sqlite3.Connection,
    state: UplinkState,
    through_seq: int,
    now: float,
    *,
    lost_at_central: int = 0,
) -> int:
    """Fire the alert for the epoch ``state`` has just drawn, resolving an earlier epoch's still open;
    inside the caller's write transaction (the one that drew the epoch). ``lost_at_central``: central went
    back and that many rows it had acknowledged are no longer here to send (cause ``central-lost``).
    Returns its id."""
    assert state.epoch is not None
    facts = EpochFacts(
        state.epoch,
        state.parent_epoch,
        state.epoch_reason or "a new epoch",
        through_seq,
        "central-lost" if lost_at_central else "site-replaced",
        lost_at_central,
    )
    earlier = alert_store.open_alerts(conn).get(FINGERPRINT)
    if earlier is not None:
        alert_store.resolve(conn, earlier.id, now, f"superseded by epoch {facts.epoch}")
    alert = system_alert(
        FINGERPRINT,
        RULE,
        SEVERITY,
        float(through_seq),
        message(facts, now),
        now,
        snapshot=json.dumps({"check": RULE, **_snapshot(facts)}),
    )
    return alert_store.fire(conn, alert)


def _snapshot(facts: EpochFacts) -> dict[str, object]:
    return {
        "epoch": facts.epoch,
        "parent": facts.parent,
        "reason": facts.reason,
        "through": facts.through_seq,
        "cause": facts.cause,
        "lost_at_central": facts.lost_at_central,
    }


def _facts(alert: alert_store.AlertRecord) -> EpochFacts:
    found = json.loads(alert.snapshot)
    return EpochFacts(
        str(found["epoch"]),
        found["parent"],
        str(found["reason"]),
        int(found["through"]),
        found.get("cause", "site-replaced"),  # alerts raised before central-lost was one
        int(found.get("lost_at_central", 0)),
    )


def _ended(alert: alert_store.AlertRecord, epoch: str, acked_seq: int) -> bool:
    facts = _facts(alert)
    return alert.ack_ts is not None and facts.epoch == epoch and acked_seq >= facts.through_seq


def settle(conn: sqlite3.Connection, epoch: str, acked_seq: int, now: float) -> bool:
    """Resolve the open alert once a person has acknowledged it and central holds ``epoch`` through its
    point (``acked_seq``: central's acknowledgement). Returns whether one stays open. Reads first and
    takes the write lock only to resolve, so that polling it costs the bridge nothing."""
    current = alert_store.open_alerts(conn).get(FINGERPRINT)
    if current is None or not _ended(current, epoch, acked_seq):
        return current is not None
    with transaction(conn):
        current = alert_store.open_alerts(conn).get(FINGERPRINT)
        if current is None:
            return False
        if not _ended(current, epoch, acked_seq):
            return True
        alert_store.resolve(
            conn,
            current.id,
            now,
            f"acknowledged by {current.ack_by} and central holds epoch {epoch} through {acked_seq}",
        )
    return False
