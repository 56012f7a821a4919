"""Token text, scopes and the Authorization header, pure."""

from __future__ import annotations

import pytest

from monitor import tokens


@pytest.mark.parametrize(
    ("held", "needed", "allowed"),
    [
        ("read", "read", True),
        ("read", "write", False),
        ("write", "read", True),
        ("write", "admin", False),
        ("admin", "write", True),
    ],
    ids=lambda v: str(v),
)
def test_each_scope_includes_the_ones_below(held: tokens.Scope, needed: tokens.Scope, allowed: bool) -> None:
    """read < write < admin."""
    assert tokens.covers(held, needed) is allowed


def test_issued_tokens_parse_and_match_only_their_digest() -> None:
    """A new token has a public id, matches its own digest, and no other token's."""
    a, b = tokens.issue(), tokens.issue()
    assert tokens.token_id_of(a.text) == a.token_id
    assert tokens.matches(a.text, a.sha256)
    assert not tokens.matches(b.text, a.sha256)
    assert a.text not in a.sha256


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic dXNlcjpwdw==", ""),
        ("Bearer", ""),
    ],
    ids=["absent", "empty", "bearer", "lowercase", "basic", "no-value"],
)
def test_bearer_header(header: str | None, expected: str | None) -> None:
    """No header is None (maybe anonymous); a header that is not a bearer token is '' (refused)."""
    assert tokens.bearer(header) == expected


@pytest.mark.parametrize("text", ["", "vg_", "vg_XYZ_abc", "vg_0123456789ab_short", "token"], ids=repr)
def test_malformed_tokens_have_no_id(text: str) -> None:
    """Anything not shaped like a token is refused before any lookup."""
    assert tokens.token_id_of(text) is None
