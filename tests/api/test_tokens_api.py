"""Tokens over the API: only an admin token manages them; the text is shown once; every change audited."""

from __future__ import annotations

import pytest

from tests.api.conftest import Served


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
    assert "no live token named 'pager'" in again.json()["message"]

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
        ({"name": "test-read", "scope": "read"}, "a live token named 'test-read' exists"),
    ],
    ids=["bad-scope", "empty-name", "duplicate"],
)
def test_bad_token_requests_name_the_problem(served: Served, body: dict[str, str], message: str) -> None:
    """A bad scope, an empty name or a live duplicate: 422 naming it."""
    r = served.client.post("/api/v1/tokens", json=body, headers=served.auth("admin"))
    assert r.status_code == 422
    assert message in r.json()["message"]
