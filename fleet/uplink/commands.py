"""Central's commands at the site: each applied once, through the store's audited functions.

A command is an operator's write made at central (an alert acknowledged, a silence created or ended) for
this site. It is applied in one transaction with the same store functions the site's own API uses, so the
site's audit trail records it as it records a local write, naming central's operator as the actor and
the command's id in the row; the command's id and result are remembered in the same transaction
(:mod:`monitor.store.fleet_commands`). A command the site refuses (an alert already resolved, a silence
window that has ended) is remembered too, with the reason. Central publishes a command until the result
reaches it, so a command arrives more than once: a later delivery gets the stored result and changes
nothing. The changes themselves reach central as every change does, through the outbox.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from fleet.commands import Command, CommandKind, CommandResult, decode_result, encode_result
from monitor.errors import InvalidRequest, NotFound
from monitor.store import alerts, silences
from monitor.store import fleet_commands as command_store
from monitor.store.database import transaction

# The prefix every actor central names carries: a command cannot pass itself off as a local user.
CENTRAL_ACTOR_PREFIX = "central:"


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


_APPLY: dict[CommandKind, Callable[[sqlite3.Connection, Command, float], dict[str, Any]]] = {
    "alert.acknowledge": _acknowledge,
    "silence.create": _create_silence,
    "silence.expire": _expire_silence,
}


def _dispatch(conn: sqlite3.Connection, command: Command, now: float) -> dict[str, Any]:
    if not command.actor.startswith(CENTRAL_ACTOR_PREFIX):
        raise InvalidRequest(f"actor {command.actor!r}: central's actors start {CENTRAL_ACTOR_PREFIX!r}")
    return _APPLY[command.kind](conn, command, now)


def apply(conn: sqlite3.Connection, command: Command, now: float) -> CommandResult:
    """Apply ``command`` at the site's time ``now``, or refuse it, in one transaction with the record of
    its result; a command handled before returns the result it got then."""
    with transaction(conn):
        earlier = command_store.handled(conn, command.id)
        if earlier is not None:
            return decode_result(earlier.result.encode(), command.site)
        # A refusal undoes whatever the command had written before the store refused it.
        conn.execute("SAVEPOINT command")
        try:
            detail = _dispatch(conn, command, now)
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
