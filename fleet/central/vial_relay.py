"""A vial handed over between sites by a fleet operator at central: two commands, relayed.

``POST /api/v1/fleet/vials/{key}/hand-over {"to_site", "location"}`` becomes a ``vial.hand-over``
command to the site holding the vial (:func:`owner`). The site records the hand-over through its audited
function (:mod:`monitor.handover_audited`) and its result carries the document; when central stores
that result, :func:`follow` issues, in the same transaction, a ``vial.receive`` command with the
document and the location to the receiving site, which registers the vial there as its own
``POST /api/v1/vials/receive`` would. Both commands are the operator's, both are in central's own trail
(``command.issued``, then each site's ``command.applied`` or ``command.refused``), and the second names
the first (``args.relayed_from``), so :func:`steps` gives the relay whole from either of them.

A hand-over cannot be taken back once recorded, so what central can check before it, it checks first:
a key no site has sent (404), a destination site that has never reported (404) or a location its
configuration as central holds it lacks (422). What only a site can say comes back as its refusal with
its reason: the vial not in stock there, a hand-over time before its last event, a receipt the
receiving site refuses.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from fleet.central import commands
from fleet.central.commands import CommandRecord
from fleet.commands import CommandKind, CommandResult
from monitor.errors import InvalidRequest, NotFound, VialguardError

log = logging.getLogger(__name__)

Connection = psycopg.Connection[tuple[Any, ...]]

HAND_OVER: CommandKind = "vial.hand-over"
RECEIVE: CommandKind = "vial.receive"
# The receipt's idempotency key: one per hand-over command, whatever the deliveries of its result.
RELAY_KEY_PREFIX = "relay:"


def owner(conn: Connection, key: str) -> str:
    """The site holding the vial in stock as central knows it; else the site that last registered it
    (which refuses the hand-over with its reason). :class:`NotFound` when no site has sent the key."""
    row = conn.execute(
        "SELECT site FROM site_vials WHERE key = %s ORDER BY status = 'active' DESC, registered_ts DESC,"
        " site LIMIT 1",
        (key,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no site has sent central a vial {key!r}")
    return str(row[0])


def check_destination(conn: Connection, to_site: str, location: str) -> None:
    """The receiving site has reported and has ``location`` (central's copy of its configuration)."""
    if conn.execute("SELECT 1 FROM sites WHERE site = %s", (to_site,)).fetchone() is None:
        raise NotFound(f"no site named {to_site!r} has reported to central")
    known = [
        str(k)
        for (k,) in conn.execute(
            "SELECT key FROM site_locations WHERE site = %s ORDER BY key", (to_site,)
        ).fetchall()
    ]
    if location not in known:
        raise InvalidRequest(
            f"location: site {to_site!r} has no location {location!r} (as central holds its configuration);"
            f" known: {', '.join(known) or 'none'}"
        )


def follow(conn: Connection, result: CommandResult, now: float) -> list[str]:
    """After a site's result is stored (in the caller's transaction): for an applied hand-over, issue the
    receipt to the receiving site. The sites whose commands to publish now."""
    if result.outcome != "applied":
        return []
    record = commands.get(conn, result.id)
    if record.kind != HAND_OVER:
        return []
    document = result.detail.get("document")
    if not isinstance(document, dict):
        log.warning("the hand-over %s came back without its document: nothing to relay", result.id)
        return []
    to_site = str(record.args["to_site"])
    args = {"document": document, "location": record.args["location"], "relayed_from": record.id}
    try:
        commands.issue(conn, record.operator, to_site, RECEIVE, args, RELAY_KEY_PREFIX + record.id, now)
    except VialguardError as exc:  # the site vanished from central meanwhile: the document stays here
        log.warning("could not relay the hand-over %s to %s: %s", record.id, to_site, exc)
        return []
    return [to_site]


def steps(conn: Connection, record: CommandRecord) -> list[CommandRecord]:
    """The relay ``record`` is part of, in order: the hand-over, then the receipt once issued."""
    if record.kind == RECEIVE:
        first = commands.get(conn, str(record.args["relayed_from"]))
        return [first, record]
    if record.kind != HAND_OVER:
        return [record]
    row = conn.execute(
        "SELECT id::text FROM commands WHERE kind = %s AND args->>'relayed_from' = %s", (RECEIVE, record.id)
    ).fetchone()
    return [record] if row is None else [record, commands.get(conn, str(row[0]))]


def relay_state(steps: list[CommandRecord]) -> tuple[str, str | None]:
    """The relay's state and reason: ``refused`` (the step that was, with its site's reason),
    ``applied`` once the receipt is, else ``queued``."""
    for step in steps:
        if step.state == "refused":
            return "refused", f"{step.site}: {step.reason}"
    if len(steps) == 2 and steps[1].state == "applied":
        return "applied", None
    return "queued", None
