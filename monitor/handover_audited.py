"""A hand-over and a receipt with their rows in the site's audit trail, in the caller's transaction.

The site's API records them as ``vial.handed-over`` and ``vial.received``; a command relayed by the
fleet's central records them alike, naming central's operator as the actor and the command in the row,
as :func:`monitor.store.alerts.acknowledge_audited` does for an acknowledgement.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from monitor import handover
from monitor.handover import HandOver, Receipt
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.store import audit
from monitor.store.vials import VialRecord
from monitor.timestamps import iso_utc


def hand_over(
    conn: sqlite3.Connection,
    catalog: Catalog,
    vial: VialRecord,
    *,
    from_site: str,
    to_site: str,
    ts: float,
    now: float,
    thresholds: Thresholds,
    actor: str,
    command: str | None = None,
) -> HandOver:
    """:func:`monitor.handover.hand_over` with its ``vial.handed-over`` audit row by ``actor``."""
    done = handover.hand_over(
        conn, catalog, vial, from_site=from_site, to_site=to_site, ts=ts, now=now, thresholds=thresholds
    )
    detail: dict[str, Any] = {
        "event_id": done.event_id,
        "to_site": to_site,
        "at": iso_utc(ts),
        "checksum": done.document["checksum"],
    }
    if command is not None:
        detail["command"] = command
    audit.append(conn, now, actor, "vial.handed-over", f"vial:{vial.key}", detail)
    return done


def receive(
    conn: sqlite3.Connection,
    catalog: Catalog,
    document: Mapping[str, Any],
    *,
    site: str,
    location: str,
    now: float,
    actor: str,
    command: str | None = None,
) -> Receipt:
    """:func:`monitor.handover.receive` with its ``vial.received`` audit row by ``actor`` (none for the
    same document received again: nothing changed)."""
    receipt = handover.receive(conn, catalog, document, site=site, location=location, now=now)
    if not receipt.repeated:
        detail: dict[str, Any] = {
            "event_id": receipt.event_id,
            "from_site": document.get("from_site"),
            "location": location,
            "checksum": document.get("checksum"),
        }
        if command is not None:
            detail["command"] = command
        audit.append(conn, now, actor, "vial.received", f"vial:{document['vial']['key']}", detail)
    return receipt
