"""Central's commands at the site: each applied once, through the store's audited functions.

A command is an operator's write made at central (an alert acknowledged, a silence created or ended, a
vial handed over to another site, or received from one as central relays it) for this site. It is
applied in one transaction with the same store functions the site's own API uses, so the site's audit
trail records it as it records a local write, naming central's operator as the actor and
the command's id in the row; the command's id and result are remembered in the same transaction
(:mod:`monitor.store.fleet_commands`). A command the site refuses (an alert already resolved, a silence
window that has ended) is remembered too, with the reason. Central publishes a command until the result
reaches it, so a command arrives more than once: a later delivery gets the stored result and changes
nothing. The changes themselves reach central as every change does, through the outbox.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleet.commands import Command, CommandKind, CommandResult, decode_result, encode_result
from monitor import handover_audited
from monitor.errors import InvalidRequest, NotFound
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.store import alerts, silences
from monitor.store import fleet_commands as command_store
from monitor.store import vials as vial_store
from monitor.store.database import transaction

# The prefix every actor central names carries: a command cannot pass itself off as a local user.
CENTRAL_ACTOR_PREFIX = "central:"


@dataclass(frozen=True, slots=True)
class SiteModel:
    """What a vial's hand-over needs beyond the database: the site's name in the fleet, its catalog
    (drug profiles) and its verdict thresholds, as its API has them."""

    site: str
    catalog: Catalog
    thresholds: Thresholds


def _int(args: dict[str, Any], name: str) -> int:
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidRequest(f"{name}: expected a positive integer")
    return value


def _text(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{name}: expected a non-empty string")
    return value.strip()


def _time(args: dict[str, Any], name: str) -> float | None:
    value = args.get(name)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidRequest(f"{name}: expected a time in seconds since the Unix epoch")
    return float(value)


def _last_audit_id(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max(id) FROM audit_log").fetchone()
    return int(row[0] or 0)


def _acknowledge(conn: sqlite3.Connection, command: Command, now: float) -> dict[str, Any]:
    args = command.args
    alert_id = _int(args, "alert_id")
    a = alerts.acknowledge_audited(
        conn, alert_id, _text(args, "by"), _text(args, "comment"), now, command.actor, command.id
    )
    return {"alert_id": a.id, "state": a.state, "acknowledged_by": a.ack_by, "audit_id": _last_audit_id(conn)}


def _create_silence(conn: sqlite3.Connection, command: Command, now: float) -> dict[str, Any]:
    args = command.args
    matchers = args.get("matchers")
    if not isinstance(matchers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in matchers.items()
    ):
        raise InvalidRequest("matchers: expected an object of label to text")
    starts = _time(args, "starts_ts")
    starts = now if starts is None else starts
    ends, duration = _time(args, "ends_ts"), _time(args, "duration_seconds")
    if (ends is None) == (duration is None):
        raise InvalidRequest("give exactly one of ends_ts and duration_seconds")
    ends = starts + duration if duration is not None else ends
    assert ends is not None
    record = silences.create_audited(
        conn,
        dict(matchers),
        starts,
        ends,
        _text(args, "created_by"),
        _text(args, "comment"),
        now,
        command.actor,
        command.id,
    )
    return {
        "silence_id": record.id,
        "starts_ts": record.starts_ts,
        "ends_ts": record.ends_ts,
        "audit_id": _last_audit_id(conn),
    }


def _expire_silence(conn: sqlite3.Connection, command: Command, now: float) -> dict[str, Any]:
    args = command.args
    record = silences.expire_audited(
        conn, _int(args, "silence_id"), _text(args, "by"), now, command.actor, command.id
    )
    return {"silence_id": record.id, "ends_ts": record.ends_ts, "audit_id": _last_audit_id(conn)}


def _model(model: SiteModel | None) -> SiteModel:
    if model is None:
        raise InvalidRequest("this site's uplink was started without its drug profiles: it cannot move vials")
    return model


def _hand_over(
    conn: sqlite3.Connection, command: Command, now: float, model: SiteModel | None
) -> dict[str, Any]:
    site = _model(model)
    args = command.args
    key, to_site = _text(args, "key"), _text(args, "to_site")
    at = _time(args, "at")
    vial = vial_store.by_key(conn, key)
    if vial is None:
        raise NotFound(f"no vial with key {key!r} at site {site.site!r}")
    done = handover_audited.hand_over(
        conn,
        site.catalog,
        vial,
        from_site=site.site,
        to_site=to_site,
        ts=now if at is None else at,
        now=now,
        thresholds=site.thresholds,
        actor=command.actor,
        command=command.id,
    )
    return {
        "vial": key,
        "event_id": done.event_id,
        "to_site": to_site,
        "document": done.document,
        "audit_id": _last_audit_id(conn),
    }


def _receive(
    conn: sqlite3.Connection, command: Command, now: float, model: SiteModel | None
) -> dict[str, Any]:
    site = _model(model)
    args = command.args
    document = args.get("document")
    if not isinstance(document, dict):
        raise InvalidRequest("document: expected a hand-over document")
    location = _text(args, "location")
    receipt = handover_audited.receive(
        conn,
        site.catalog,
        document,
        site=site.site,
        location=location,
        now=now,
        actor=command.actor,
        command=command.id,
    )
    return {
        "vial": str(document["vial"]["key"]),
        "event_id": receipt.event_id,
        "location": location,
        "repeated": receipt.repeated,
        "audit_id": _last_audit_id(conn),
    }


def _without_model(
    apply: Callable[[sqlite3.Connection, Command, float], dict[str, Any]],
) -> Callable[[sqlite3.Connection, Command, float, SiteModel | None], dict[str, Any]]:
    return lambda conn, command, now, _: apply(conn, command, now)


_APPLY: dict[
    CommandKind, Callable[[sqlite3.Connection, Command, float, SiteModel | None], dict[str, Any]]
] = {
    "alert.acknowledge": _without_model(_acknowledge),
    "silence.create": _without_model(_create_silence),
    "silence.expire": _without_model(_expire_silence),
    "vial.hand-over": _hand_over,
    "vial.receive": _receive,
}


def _dispatch(
    conn: sqlite3.Connection, command: Command, now: float, model: SiteModel | None
) -> dict[str, Any]:
    if not command.actor.startswith(CENTRAL_ACTOR_PREFIX):
        raise InvalidRequest(f"actor {command.actor!r}: central's actors start {CENTRAL_ACTOR_PREFIX!r}")
    return _APPLY[command.kind](conn, command, now, model)


def apply(
    conn: sqlite3.Connection, command: Command, now: float, model: SiteModel | None = None
) -> CommandResult:
    """Apply ``command`` at the site's time ``now``, or refuse it, in one transaction with the record of
    its result; a command handled before returns the result it got then. ``model``: what a vial's
    hand-over or receipt needs (without it they are refused)."""
    with transaction(conn):
        earlier = command_store.handled(conn, command.id)
        if earlier is not None:
            return decode_result(earlier.result.encode(), command.site)
        # A refusal undoes whatever the command had written before the store refused it.
        conn.execute("SAVEPOINT command")
        try:
            detail = _dispatch(conn, command, now, model)
        except (InvalidRequest, NotFound) as exc:
            conn.execute("ROLLBACK TO command")
            result = CommandResult(command.id, command.site, "refused", str(exc), now)
        else:
            result = CommandResult(command.id, command.site, "applied", None, now, detail)
        conn.execute("RELEASE command")
        command_store.remember(
            conn,
            command_store.HandledCommand(
                command.id,
                command.kind,
                command.actor,
                result.outcome,
                encode_result(result).decode(),
                now,
            ),
        )
    return result
