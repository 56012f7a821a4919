"""Writes from central: an acknowledgement or a silence made at central becomes a command to the owning
site, applied there once through the site's audited store functions, its result and its changes flowing
back to central."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from fleet.central import central_audit, commands, operators
from fleet.central.schema import migrate
from fleet.commands import Command, CommandKind, CommandResult
from fleet.engines.mosquitto import PrivateMosquitto
from fleet.uplink.commands import apply
from monitor.errors import InvalidRequest, NotFound
from monitor.store import Database
from monitor.store import alerts as alert_store
from monitor.store import audit as audit_store
from monitor.store import outbox as outbox_store
from monitor.store.database import transaction
from tests.fleet.fleet_system import Central, site_config, stop, vialguard, wait_for

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


# -- at central: the command store, on a real PostgreSQL -----------------------------------------------


def _central(url: str, alerts: dict[str, list[int]]) -> psycopg.Connection[tuple[Any, ...]]:
    """Central's database, migrated, knowing ``alerts`` (site: alert ids) as if the sites had sent them."""
    conn = psycopg.connect(url, autocommit=True)
    migrate(conn)
    with conn.transaction():
        for site, ids in alerts.items():
            conn.execute(
                "INSERT INTO sites (site, first_seen_at, last_seen_at) VALUES (%s, now(), now())", (site,)
            )
            for i, alert_id in enumerate(ids, start=1):
                conn.execute(
                    "INSERT INTO alert_feed (cursor, site, alert_id, event_seq, record, received_at)"
                    " VALUES ((SELECT count(*) + 1 FROM alert_feed), %s, %s, %s, '{}', now())",
                    (site, alert_id, i),
                )
    return conn


ACK = {"alert_id": 4, "by": "Alice", "comment": "door shut"}


def test_the_same_key_makes_one_command(postgres: str) -> None:
    """A retried request (same operator, same key) finds the first command and audits nothing more; the
    same key for another request is refused; another operator's key is theirs."""
    with _central(postgres, {SITE: [4, 5]}) as conn:
        first, new = commands.issue(conn, "alice", SITE, "alert.acknowledge", ACK, "k-1", T0)
        again, new_again = commands.issue(conn, "alice", SITE, "alert.acknowledge", ACK, "k-1", T0 + 5)
        with pytest.raises(InvalidRequest, match="already used for another request"):
            commands.issue(conn, "alice", SITE, "alert.acknowledge", {**ACK, "alert_id": 5}, "k-1", T0)
        bob, bob_new = commands.issue(conn, "bob", SITE, "alert.acknowledge", ACK, "k-1", T0)
        trail = central_audit.entries(conn)
        check = central_audit.check(conn)
    assert (new, new_again, bob_new) == (True, False, True)
    assert again == first
    assert bob.id != first.id
    assert first.state == "queued"
    assert first.message().actor == "central:alice"
    assert [(r.actor, r.action) for r in trail] == [
        ("operator:alice", "command.issued"),
        ("operator:bob", "command.issued"),
    ]
    assert check.intact
    assert check.rows == 2


@pytest.mark.parametrize(
    ("site", "alert_id", "message"),
    [
        ("ward-9", 4, "no site named 'ward-9' has reported to central"),
        (SITE, 99, "site 'ward-3' has sent central no alert with id 99"),
    ],
    ids=["unknown-site", "unknown-alert"],
)
def test_a_command_to_an_unknown_site_or_alert_is_refused(
    postgres: str, site: str, alert_id: int, message: str
) -> None:
    """Central refuses at once what no site could apply, and makes no command."""
    with _central(postgres, {SITE: [4]}) as conn:
        with pytest.raises(NotFound) as refused:
            commands.issue(conn, "alice", site, "alert.acknowledge", {**ACK, "alert_id": alert_id}, "k", T0)
        count = conn.execute("SELECT count(*) FROM commands").fetchone()
    assert str(refused.value) == message
    assert count == (0,)


def test_a_result_is_stored_once_and_chained(postgres: str) -> None:
    """The site's result moves the command out of the queue once (a duplicate changes nothing), and
    central's trail records it; an edited row of that trail is found by the sites' own check."""
    with _central(postgres, {SITE: [4]}) as conn:
        record, _ = commands.issue(conn, "alice", SITE, "alert.acknowledge", ACK, "k", T0)
        assert [c.id for c in commands.queued(conn, {SITE})] == [record.id]
        result = CommandResult(record.id, SITE, "refused", "alert 4 is already resolved", T0 + 1)
        with conn.transaction():
            stored = commands.record_result(conn, result, T0 + 2)
            duplicate = commands.record_result(conn, result, T0 + 3)
        after = commands.get(conn, record.id)
        assert commands.queued(conn) == []
        assert central_audit.check(conn).intact
        with conn.transaction():
            conn.execute("UPDATE central_audit SET actor = 'operator:bob' WHERE id = 1")
        tampered = central_audit.check(conn)
    assert (stored, duplicate) == (True, False)
    assert (after.state, after.reason) == ("refused", "alert 4 is already resolved")
    assert tampered.problems == ("row 1: its contents do not match its hash (edited)",)


# -- the whole path: central's HTTP, the broker, the site's uplink, and back ----------------------------


class Operator:
    """Central's HTTP API as an operator with a write token."""

    def __init__(self, central: Central) -> None:
        self.central = central
        with psycopg.connect(central.database_url, autocommit=True) as conn:
            _, self.token = operators.create(conn, "alice", "write", T0, None, "console:test")

    def post(
        self, path: str, body: dict[str, Any], key: str | None, token: str | None = ""
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        if token is not None:
            headers["Authorization"] = f"Bearer {token or self.token}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.central.port}{path}", json.dumps(body).encode(), headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def acknowledge(self, alert_id: int, key: str | None, site: str = SITE) -> tuple[int, Any]:
        body = {"by": "Alice", "comment": "door shut, vials checked"}
        return self.post(f"/api/v1/fleet/sites/{site}/alerts/{alert_id}/acknowledge", body, key)

    def command(self, command_id: str) -> dict[str, Any]:
        return dict(self.central.get(f"/api/v1/fleet/commands/{command_id}"))

    def settled(self, command_id: str) -> dict[str, Any]:
        wait_for(lambda: self.command(command_id)["state"] != "queued", 20, f"command {command_id}'s result")
        return self.command(command_id)


def _fleet(
    tmp_path: Path, broker: PrivateMosquitto, postgres: str
) -> tuple[sqlite3.Connection, Path, Central]:
    """A site's database with the uplink enabled, its settings, and central started."""
    conn = _site(tmp_path)
    config = site_config(tmp_path, SITE, broker.url)
    central = Central(postgres, broker.url, tmp_path)
    central.start()
    return conn, config, central


def _known_at_central(central: Central, *alert_ids: int) -> Callable[[], bool]:
    return lambda: set(alert_ids) <= {c["alert"]["id"] for c in central.alert_feed() if c["site"] == SITE}


def _site_audit(conn: sqlite3.Connection, action: str) -> list[str]:
    return [r.actor for r in audit_store.entries(conn) if r.action == action]


@pytest.mark.slow
def test_an_acknowledgement_at_central_is_applied_at_the_site_and_flows_back(
    tmp_path: Path, broker: PrivateMosquitto, postgres: str
) -> None:
    """Central's acknowledgement becomes one command (a retry with the same key finds it), applied at
    the site with an audit row naming central's operator; the acknowledged alert and that audit row come
    back to central's feed and mirrored chain, and central's own trail records who asked."""
    conn, config, central = _fleet(tmp_path, broker, postgres)
    alert_id = fire_alert(conn, time.time())
    uplink = vialguard("uplink", "--config", str(config), log=tmp_path / "uplink.log")
    try:
        wait_for(_known_at_central(central, alert_id), 20, "central to know the site's alert")
        operator = Operator(central)
        status, first = operator.acknowledge(alert_id, "retry-me")
        status_again, again = operator.acknowledge(alert_id, "retry-me")
        refusals = {
            "no token": operator.post(
                f"/api/v1/fleet/sites/{SITE}/alerts/{alert_id}/acknowledge",
                {"by": "A", "comment": "x"},
                "k",
                None,
            ),
            "no key": operator.acknowledge(alert_id, None),
            "unknown site": operator.acknowledge(alert_id, "k-site", site="ward-9"),
            "unknown alert": operator.acknowledge(alert_id + 100, "k-alert"),
        }
        done = operator.settled(first["id"])
        wait_for(
            lambda: any(
                c["alert"]["id"] == alert_id and c["alert"]["state"] == "acknowledged"
                for c in central.alert_feed()
            ),
            20,
            "the acknowledged alert in central's feed",
        )
        with psycopg.connect(postgres) as pg:
            wait_for(
                lambda: (
                    pg.execute(
                        "SELECT count(*) FROM site_records WHERE site = %s AND kind = 'audit'"
                        " AND record->>'actor' = 'central:alice'",
                        (SITE,),
                    ).fetchone()
                    == (1,)
                ),
                20,
                "the site's audit row in central's mirror",
            )
        trail = central.get("/api/v1/fleet/audit")
        mirrored = central.sites()[SITE]["audit"]
    finally:
        stop(uplink)
        stop(central.process)
    assert (status, status_again) == (202, 202)
    assert again["id"] == first["id"]
    assert first["state"] in ("queued", "applied")
    assert {k: v[0] for k, v in refusals.items()} == {
        "no token": 401,
        "no key": 400,
        "unknown site": 404,
        "unknown alert": 404,
    }
    assert (
        refusals["unknown alert"][1]["detail"]
        == f"site 'ward-3' has sent central no alert with id {alert_id + 100}"
    )
    assert done["state"] == "applied"
    assert done["result"]["state"] == "acknowledged"
    assert alert_store.get(conn, alert_id).ack_by == "Alice"
    assert _site_audit(conn, "alert.acknowledged") == ["central:alice"]
    assert audit_store.check(conn).intact
    assert mirrored["intact"] is True
    assert trail["intact"] is True
    assert [(e["actor"], e["action"]) for e in trail["entries"]] == [
        ("console:test", "operator-token.created"),  # the harness's reader (fleet_system.Central.start)
        ("console:test", "operator-token.created"),
        ("operator:alice", "command.issued"),
        (f"site:{SITE}", "command.applied"),
    ]


@pytest.mark.slow
def test_commands_made_while_the_site_is_away_are_applied_when_it_returns(
    tmp_path: Path, broker: PrivateMosquitto, postgres: str
) -> None:
    """Commands made while the site's uplink is stopped wait at central and are applied once it is back:
    the acknowledgement once; an alert resolved meanwhile and a silence window already over are refused
    with the site's reasons."""
    conn, config, central = _fleet(tmp_path, broker, postgres)
    now = time.time()
    open_id, resolved_id = fire_alert(conn, now), fire_alert(conn, now, rule="too-warm")
    uplink = vialguard("uplink", "--config", str(config), log=tmp_path / "uplink.log")
    try:
        wait_for(_known_at_central(central, open_id, resolved_id), 20, "central to know the site's alerts")
    finally:
        stop(uplink)
    try:
        wait_for(lambda: not central.sites()[SITE]["online"], 20, "the site to be away")
        with transaction(conn):
            alert_store.resolve(conn, resolved_id, time.time(), "back in range")
        operator = Operator(central)
        made = [
            operator.acknowledge(open_id, "k-open")[1],
            operator.acknowledge(resolved_id, "k-resolved")[1],
            operator.post(
                f"/api/v1/fleet/sites/{SITE}/silences",
                {
                    "matchers": {"rule": "door-left-open"},
                    "starts_at": "2019-12-31T00:00:00+00:00",
                    "ends_at": "2020-01-01T00:00:00+00:00",
                    "created_by": "Alice",
                    "comment": "defrost",
                },
                "k-silence",
            )[1],
        ]
        waiting = [operator.command(c["id"])["state"] for c in made]
        uplink = vialguard("uplink", "--config", str(config), log=tmp_path / "uplink.log")
        done = [operator.settled(c["id"]) for c in made]
    finally:
        stop(uplink)
        stop(central.process)
    assert waiting == ["queued"] * 3
    assert [(c["state"], c["reason"]) for c in done] == [
        ("applied", None),
        ("refused", f"alert {resolved_id} is already resolved; there is nothing to acknowledge"),
        ("refused", "a silence must end in the future"),
    ]
    assert _site_audit(conn, "alert.acknowledged") == ["central:alice"]
    assert _site_audit(conn, "silence.created") == []


def test_an_operator_token_is_made_and_revoked_at_the_console(postgres: str) -> None:
    """`vialguard central-token create` prints a token central accepts for writes; `revoke` ends it;
    both in central's own trail."""

    def console(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "vialguard", "central-token", *args, "--database", postgres],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    token = console("create", "--name", "pharmacy-lead", "--scope", "write")
    with psycopg.connect(postgres, autocommit=True) as conn:
        accepted = operators.authenticate(conn, token, time.time())
        console("revoke", "--name", "pharmacy-lead")
        after = operators.authenticate(conn, token, time.time())
        actions = [r.action for r in central_audit.entries(conn)]
    assert accepted is not None
    assert (accepted.name, accepted.scope) == ("pharmacy-lead", "write")
    assert after is None
    assert actions == ["operator-token.created", "operator-token.revoked"]
