"""Who may call what: tokens by scope, anonymous loopback reads, 401 against 403, request size limit."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hardware.clock import ManualClock
from monitor.config import Settings
from monitor.store import tokens as token_store
from monitor.store.database import transaction
from tests.api.conftest import Served, serve

SILENCE = {
    "matchers": {"rule": "light-exposure"},
    "duration_seconds": 600,
    "created_by": "pharmacist",
    "comment": "restocking",
}

READ = ("GET", "/api/v1/vials")
WRITE = ("POST", "/api/v1/silences")
ADMIN = ("GET", "/api/v1/audit")


def _call(served: Served, what: tuple[str, str], who: str | None) -> httpx.Response:
    method, path = what
    headers = {} if who is None else {"Authorization": f"Bearer {served.tokens.get(who, who)}"}
    body = SILENCE if method == "POST" else None
    return served.client.request(method, path, headers=headers, json=body)


@pytest.mark.parametrize(
    ("who", "what", "status"),
    [
        (None, READ, 200),
        (None, WRITE, 401),
        (None, ADMIN, 401),
        ("read", READ, 200),
        ("read", WRITE, 403),
        ("read", ADMIN, 403),
        ("write", READ, 200),
        ("write", WRITE, 201),
        ("write", ADMIN, 403),
        ("admin", READ, 200),
        ("admin", WRITE, 201),
        ("admin", ADMIN, 200),
        ("vg_0123456789ab_" + "x" * 43, READ, 401),
        ("not-a-token", WRITE, 401),
    ],
    ids=lambda v: (
        v if isinstance(v, str | int) else f"{v[0]} {v[1]}" if isinstance(v, tuple) else "anonymous"
    ),
)
def test_auth_matrix_on_a_loopback_server(
    served: Served, who: str | None, what: tuple[str, str], status: int
) -> None:
    """Reads are open on loopback; writes need write; the audit trail needs admin; a bad token is a 401."""
    r = _call(served, what, who)
    assert r.status_code == status, r.text
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"] == "unauthorized"
    if status == 403:
        assert r.json()["error"] == "forbidden"
        assert f"needs '{'admin' if what == ADMIN else 'write'}'" in r.json()["message"]


@pytest.fixture
def exposed(tmp_path: Path, settings: Settings, clock: ManualClock) -> Iterator[Served]:
    """A server configured to bind beyond loopback: reads need a token too (served on 127.0.0.1 here)."""
    api = settings.api.model_copy(update={"host": "0.0.0.0"})  # the setting under test
    with serve(settings.model_copy(update={"api": api}), clock) as s:
        yield s


@pytest.mark.parametrize(
    ("who", "status"), [(None, 401), ("read", 200), ("write", 200)], ids=["anonymous", "read", "write"]
)
def test_reads_need_a_token_when_not_bound_to_loopback_only(
    exposed: Served, who: str | None, status: int
) -> None:
    """Bound to 0.0.0.0, even the vial list needs a read token."""
    assert _call(exposed, READ, who).status_code == status


def test_anonymous_reads_can_be_turned_off_on_loopback(settings: Settings, clock: ManualClock) -> None:
    """anonymous_loopback_reads = false: a loopback server asks for a token on every read."""
    api = settings.api.model_copy(update={"anonymous_loopback_reads": False})
    with serve(settings.model_copy(update={"api": api}), clock) as s:
        assert s.client.get("/api/v1/locations").status_code == 401
        assert s.client.get("/api/v1/locations", headers=s.auth("read")).status_code == 200
        assert s.client.get("/healthz").status_code == 200  # the health check stays open
        assert s.client.get("/").status_code == 200  # so does the dashboard page (its data does not)
        assert s.client.get("/api/v1/dashboard").status_code == 401


def test_a_conditional_poll_is_authorised_before_its_304(exposed: Served) -> None:
    """The 304 shortcut answers only callers that may read: without a token, 401 even with the right ETag."""
    first = exposed.client.get("/api/v1/alerts", params={"since": 0}, headers=exposed.auth("read"))
    etag = first.headers["etag"]
    held = {"If-None-Match": etag}
    assert exposed.client.get("/api/v1/alerts", params={"since": 0}, headers=held).status_code == 401
    both = {**held, **exposed.auth("read")}
    assert exposed.client.get("/api/v1/alerts", params={"since": 0}, headers=both).status_code == 304


def test_a_revoked_token_is_refused(served: Served) -> None:
    """After revocation the same token gets 401, and the name can be given to a new token."""
    assert _call(served, WRITE, "write").status_code == 201
    conn = served.database.connect()
    with transaction(conn):
        token_store.revoke(conn, "test-write", served.clock.wall())
        _, fresh = token_store.create(conn, "test-write", "write", served.clock.wall())
    conn.close()
    assert _call(served, WRITE, "write").status_code == 401
    assert _call(served, WRITE, fresh).status_code == 201


def test_only_a_digest_of_each_token_is_stored(served: Served) -> None:
    """No column of the token table holds a token's text."""
    conn = served.database.connect()
    rows = conn.execute("SELECT * FROM api_tokens").fetchall()
    conn.close()
    stored = " ".join(str(v) for row in rows for v in row)
    assert len(rows) == 3
    for text in served.tokens.values():
        assert text not in stored
        assert text.split("_", 2)[2] not in stored  # not even the secret part (which may hold "_")


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_request_bodies_over_the_limit_get_413(served: Served, chunked: bool) -> None:
    """A body over max_request_bytes is refused with 413 naming the limit, declared or streamed."""
    big = b'{"comment": "' + b"x" * 100_000 + b'"}'
    content: bytes | Iterator[bytes] = (
        iter([big[i : i + 8192] for i in range(0, len(big), 8192)]) if chunked else big
    )
    r = served.writer.post("/api/v1/silences", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "65536 bytes" in r.json()["message"]
    assert served.writer.post("/api/v1/silences", json=SILENCE).status_code == 201  # normal bodies pass


def test_no_token_reaches_a_log(
    settings: Settings, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """With uvicorn's access log on, good, wrong and under-scoped tokens leave no trace in any record."""
    caplog.set_level(logging.DEBUG)
    wrong = "vg_0123456789ab_" + "y" * 43
    with serve(settings, clock, log_everything=True) as served:
        for who in ("read", "write", "admin", wrong):
            _call(served, WRITE, who)
            _call(served, ADMIN, who)
        tokens = (*served.tokens.values(), wrong)
    text = caplog.text
    assert '"POST /api/v1/silences HTTP/1.1" 201' in text  # the access log was on
    assert '"GET /api/v1/audit HTTP/1.1" 401' in text
    for token in tokens:
        assert token not in text
        assert token.split("_", 2)[2] not in text


def test_metrics_are_a_read(exposed: Served) -> None:
    """/metrics follows the read rule: a scraper beyond loopback sends a read token."""
    assert exposed.client.get("/metrics").status_code == 401
    assert exposed.client.get("/metrics", headers=exposed.auth("read")).status_code == 200
