"""Writes from central: an acknowledgement or a silence made at central becomes a command to the owning
site, applied there once through the site's audited store functions, its result and its changes flowing
back to central."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fleet.commands import Command, CommandKind
from fleet.uplink.commands import apply
from monitor.store import Database
from monitor.store import alerts as alert_store
from monitor.store import audit as audit_store
from monitor.store import outbox as outbox_store
from monitor.store.database import transaction

SITE = "ward-3"
T0 = 1796175627.0


def _site(tmp_path: Path) -> sqlite3.Connection:
    db = Database(tmp_path / f"{SITE}.db")
    db.initialise()
    conn = db.connect()
    with transaction(conn):
        outbox_store.enable(conn, SITE)
    return conn


def fire_alert(conn: sqlite3.Connection, ts: float, rule: str = "door-left-open") -> int:
    with transaction(conn):
        return alert_store.fire(
            conn,
            alert_store.NewAlert(
                fingerprint=f"{rule}:fridge-1",
                rule=rule,
                severity="warning",
                location_id=None,
                vial_id=None,
                sensor_id=None,
                started_ts=ts,
                fired_ts=ts,
                value=600.0,
                message="the door has been open 15 min",
            ),
        )


def _command(kind: CommandKind, args: dict[str, object], command_id: str = "c-1") -> Command:
    return Command(command_id, SITE, kind, "central:alice", args, T0)


def _audit_actions(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return [(r.actor, r.action, r.subject) for r in audit_store.entries(conn)]


def test_a_command_is_applied_once_however_often_it_arrives(tmp_path: Path) -> None:
    """The first delivery acknowledges the alert with an audit row naming central's operator and the
    command; a second gets the same result and writes nothing."""
    conn = _site(tmp_path)
    alert_id = fire_alert(conn, T0)
    ack = _command("alert.acknowledge", {"alert_id": alert_id, "by": "Alice", "comment": "door shut"})
    first = apply(conn, ack, T0 + 60)
    again = apply(conn, ack, T0 + 120)
    assert first.outcome == "applied"
    assert again == first
    assert first.detail["state"] == "acknowledged"
    assert alert_store.get(conn, alert_id).ack_by == "Alice"
    assert _audit_actions(conn) == [("central:alice", "alert.acknowledged", f"alert:{alert_id}")]
    assert '"command":"c-1"' in audit_store.entries(conn)[0].detail
    assert first.detail["audit_id"] == 1
    assert audit_store.check(conn).intact


@pytest.mark.parametrize(
    ("kind", "args", "reason"),
    [
        ("alert.acknowledge", {"alert_id": 99, "by": "Alice", "comment": "x"}, "no alert with id 99"),
        ("alert.acknowledge", {"alert_id": 1, "by": " ", "comment": "x"}, "by: expected a non-empty"),
        (
            "silence.create",
            {"matchers": {"rule": "door-left-open"}, "ends_ts": T0 - 10, "created_by": "A", "comment": "x"},
            "a silence must end after it starts",
        ),
        ("silence.expire", {"silence_id": 7, "by": "Alice"}, "no silence with id 7"),
    ],
    ids=["unknown-alert", "empty-by", "window-ended", "unknown-silence"],
)
def test_a_refused_command_says_why_and_changes_nothing(
    tmp_path: Path, kind: CommandKind, args: dict[str, object], reason: str
) -> None:
    """The site refuses what its own API would refuse, remembers the refusal, and writes no audit row."""
    conn = _site(tmp_path)
    fire_alert(conn, T0)
    result = apply(conn, _command(kind, args), T0 + 60)
    assert result.outcome == "refused"
    assert result.reason is not None
    assert reason in result.reason
    assert apply(conn, _command(kind, args), T0 + 90) == result
    assert _audit_actions(conn) == []


def test_a_resolved_alert_is_not_acknowledged(tmp_path: Path) -> None:
    """An alert resolved before the command arrives: refused with the site's reason."""
    conn = _site(tmp_path)
    alert_id = fire_alert(conn, T0)
    with transaction(conn):
        alert_store.resolve(conn, alert_id, T0 + 30, "the door is shut")
    result = apply(
        conn, _command("alert.acknowledge", {"alert_id": alert_id, "by": "A", "comment": "x"}), T0 + 60
    )
    assert result.outcome == "refused"
    assert result.reason == f"alert {alert_id} is already resolved; there is nothing to acknowledge"


def test_a_silence_is_created_and_ended_from_central(tmp_path: Path) -> None:
    """A silence for an hour from the site's time silences the open alert; ending it unsilences it; both
    audited as central's operator."""
    conn = _site(tmp_path)
    alert_id = fire_alert(conn, T0)
    create = _command(
        "silence.create",
        {
            "matchers": {"rule": "door-left-open"},
            "duration_seconds": 3600,
            "created_by": "Alice",
            "comment": "defrost",
        },
        "c-create",
    )
    made = apply(conn, create, T0 + 60)
    assert made.outcome == "applied"
    assert made.detail["starts_ts"] == T0 + 60
    assert made.detail["ends_ts"] == T0 + 3660
    silence_id = made.detail["silence_id"]
    assert alert_store.get(conn, alert_id).silence_id == silence_id
    ended = apply(
        conn, _command("silence.expire", {"silence_id": silence_id, "by": "Alice"}, "c-end"), T0 + 120
    )
    assert ended.outcome == "applied"
    assert alert_store.get(conn, alert_id).silence_id is None
    assert [a for _, a, _ in _audit_actions(conn)] == ["silence.created", "silence.expired"]
