"""Tokens over the API: only an admin token manages them; the text is shown once; every change audited."""

from __future__ import annotations

import pytest

from monitor.config import Settings
from monitor.store.database import transaction
from tests.api.conftest import Served
from vialguard.cli import main


def test_an_admin_creates_uses_and_revokes_a_token(served: Served) -> None:
    """Created: its text works at once and appears in no listing; revoked: 401; both in the audit trail."""
    admin = served.auth("admin")
    created = served.client.post("/api/v1/tokens", json={"name": "pager", "scope": "write"}, headers=admin)
    assert created.status_code == 201
    text = created.json()["token"]
    bearer = {"Authorization": f"Bearer {text}"}
    silence = {"matchers": {"rule": "x"}, "duration_seconds": 60, "created_by": "p", "comment": "c"}
    assert served.client.post("/api/v1/silences", json=silence, headers=bearer).status_code == 201

    listed = served.client.get("/api/v1/tokens", headers=admin)
    assert text not in listed.text
    assert {t["name"]: t["scope"] for t in listed.json()}["pager"] == "write"

    revoked = served.client.post("/api/v1/tokens/pager/revoke", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert served.client.post("/api/v1/silences", json=silence, headers=bearer).status_code == 401
    again = served.client.post("/api/v1/tokens/pager/revoke", headers=admin)
    assert again.status_code == 404
    assert "no unrevoked token named 'pager'" in again.json()["message"]

    audit = served.client.get("/api/v1/audit", headers=admin).json()["entries"]
    assert [(e["action"], e["actor"]) for e in audit] == [
        ("token.created", "token:test-admin"),
        ("silence.created", "token:pager"),
        ("token.revoked", "token:test-admin"),
    ]
    assert text not in str(audit)


@pytest.mark.parametrize("who", [None, "read", "write"], ids=["anonymous", "read", "write"])
def test_only_an_admin_manages_tokens(served: Served, who: str | None) -> None:
    """Below admin: 401 without a token, 403 with one; nothing is created."""
    headers = {} if who is None else served.auth(who)
    r = served.client.post("/api/v1/tokens", json={"name": "sneaky", "scope": "admin"}, headers=headers)
    assert r.status_code == (401 if who is None else 403)
    assert "sneaky" not in served.client.get("/api/v1/tokens", headers=served.auth("admin")).text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x", "scope": "root"}, "body.scope"),
        ({"name": "", "scope": "read"}, "body.name"),
        ({"name": "test-read", "scope": "read"}, "a token named 'test-read' is not revoked"),
        ({"name": "ward/3", "scope": "read"}, "body.name"),
        ({"name": "nurse\u202estation", "scope": "read"}, "body.name"),
        ({"name": "nurse\x1b[2Jstation", "scope": "read"}, "body.name"),
        ({"name": "nurse\nstation", "scope": "read"}, "body.name"),
        ({"name": "Nurse Station", "scope": "read"}, "body.name"),
        ({"name": "x" * 65, "scope": "read"}, "body.name"),
    ],
    ids=["bad-scope", "empty-name", "duplicate", "slash", "bidi", "escape", "newline", "space", "too-long"],
)
def test_bad_token_requests_name_the_problem(
    shared_served: Served, body: dict[str, str], message: str
) -> None:
    """A bad scope, an empty name or a live duplicate: 422 naming it."""
    r = shared_served.client.post("/api/v1/tokens", json=body, headers=shared_served.auth("admin"))
    assert r.status_code == 422
    assert message in r.json()["message"]


def test_a_token_created_with_an_expiry_works_until_then(served: Served) -> None:
    """expires_in_seconds: the answer names when (real time) and the state; past it, the token gets 401."""
    import time

    from monitor.store import tokens as token_store

    admin = served.auth("admin")
    body = {"name": "contractor", "scope": "read", "expires_in_seconds": 3600}
    created = served.client.post("/api/v1/tokens", json=body, headers=admin)
    assert created.status_code == 201
    got = created.json()
    assert got["state"] == "live"
    assert got["expires_at"] is not None
    bearer = {"Authorization": f"Bearer {got['token']}"}
    assert served.client.get("/api/v1/audit", headers=bearer).status_code == 403  # valid, too small a scope
    conn = served.database.connect()
    with conn:  # an hour on: move its expiry to the past rather than wait for the real clock
        conn.execute("UPDATE api_tokens SET expires_ts = ? WHERE name = 'contractor'", (time.time() - 1.0,))
    assert token_store.authenticate(conn, got["token"], time.time()) is None
    conn.close()
    refused = served.client.get("/api/v1/audit", headers=bearer)
    assert refused.status_code == 401
    assert "expired" in refused.json()["message"]
    listed = {t["name"]: t for t in served.client.get("/api/v1/tokens", headers=admin).json()}
    assert listed["contractor"]["state"] == "expired"
    too_long = {**body, "name": "forever", "expires_in_seconds": 11 * 365 * 86_400}
    assert served.client.post("/api/v1/tokens", json=too_long, headers=admin).status_code == 422


def test_a_token_named_with_a_slash_by_an_older_version_can_be_revoked(served: Served) -> None:
    """A name stored before names were restricted (``ward/3``) is revoked over the API like any other."""
    conn = served.database.connect()
    with transaction(conn):
        conn.execute("UPDATE api_tokens SET name = 'ward/3' WHERE name = 'test-read'")
    conn.close()
    r = served.client.post("/api/v1/tokens/ward/3/revoke", headers=served.auth("admin"))
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["state"]) == ("ward/3", "revoked")
    assert served.client.get("/api/v1/vials", headers=served.auth("read")).status_code == 401


def test_the_console_refuses_the_same_names(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """`vialguard token create` refuses a name the API refuses: exit 2 naming the rule."""
    db = ["--simulate", "--db", str(settings.db_path)]
    assert main(["token", "create", *db, "--scope", "read", "--name", "ward\u202e3"]) == 2
    assert "is not a token name" in capsys.readouterr().err


def test_an_expired_token_stays_refused_after_the_clock_steps_back(settings: Settings) -> None:
    """Expired at a time the system has already seen: after a step back and a restart, still 401."""
    import time

    from hardware.clock import ManualClock
    from monitor.site_sync import sync_site
    from monitor.store import Database, clocks
    from monitor.store import tokens as token_store
    from tests.api.conftest import serve

    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    now = time.time()
    sync_site(conn, settings, now)
    with transaction(conn):
        _, text = token_store.create(conn, "contractor", "read", now, now + 60.0)
        clocks.raise_real_high_water(conn, now + 3600.0)  # the clock read an hour later, then stepped back
    conn.close()
    with serve(settings, ManualClock()) as s:
        r = s.client.get("/api/v1/vials", headers={"Authorization": f"Bearer {text}"})
        assert r.status_code == 401, r.text
        listed = s.client.get("/api/v1/tokens", headers=s.auth("admin")).json()
        assert next(t for t in listed if t["name"] == "contractor")["state"] == "expired"
