"""Conditional polls answered before routing: ``If-None-Match`` on a list that has not changed gets 304.

Pollers ask for the same alert page many times a minute and almost always hold its current ETag. Routing,
parameter validation and dependency resolution cost several times more than the answer itself (one
indexed ``MAX()``), so this ASGI middleware answers those polls first. It is safe to skip validation here:
an ETag is only ever issued for a query string that was valid, and it names that exact query string, so a
match proves the query was valid. Anything else (no header, no match, a store error) goes on to the
application, which gives the full answer or the error. A long-poll (``wait`` above zero) goes on too: it
must wait for a change before it may answer 304, and the route does that waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import authorize
from api.deps import AppState
from monitor.errors import VialguardError
from monitor.store.ports import Store

EtagOf = Callable[[Store, bytes], str]


def if_none_match(header: str) -> set[str]:
    """The entity tags of an ``If-None-Match`` header."""
    return {tag.strip() for tag in header.split(",") if tag.strip()}


class NotModified:
    def __init__(self, app: ASGIApp, state: AppState, paths: dict[str, EtagOf]) -> None:
        self.app = app
        self.state = state
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        etag_of = (
            self.paths.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        )
        header = _header(scope, b"if-none-match") if etag_of is not None else None
        query = scope.get("query_string", b"")
        if etag_of is not None and header and not _long_poll(query):
            try:
                with self.state.session() as store:
                    # The caller must be allowed to read before learning that nothing changed.
                    authorize(self.state, store, _header(scope, b"authorization"), "read")
                    current = etag_of(store, query)
            except VialguardError:
                current = None  # the application reports the refusal or the database problem properly
            if current is not None and current in if_none_match(header):
                await send(
                    {"type": "http.response.start", "status": 304, "headers": [(b"etag", current.encode())]}
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _long_poll(query: bytes) -> bool:
    """Whether the query asks to wait: ``wait`` present and not zero (a bad value goes on to be reported)."""
    for value in parse_qs(query.decode("latin-1"), keep_blank_values=True).get("wait", ()):
        try:
            if float(value) != 0:
                return True
        except ValueError:
            return True
    return False
