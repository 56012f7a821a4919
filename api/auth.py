"""Who may call what: API tokens by scope, and anonymous reads on a loopback-only server.

Every route under ``/api/v1`` passes :func:`caller`: a read (GET, HEAD) needs a ``read`` token, anything
else a ``write`` token; routes that need more (the audit trail: ``admin``) ask for it on top. Reads need no
token when the server binds only to loopback and ``[api] anonymous_loopback_reads`` is on (the default):
then only programs on this machine can connect at all. Writes always need a token.

401 means no usable token (missing, malformed, unknown, revoked or expired); 403 means a valid token whose
scope is too small. Tokens come only in the ``Authorization`` header, never in the URL, so no access log
holds one; this module logs nothing about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import AppState, State
from monitor import tokens
from monitor.config.services import loopback_only
from monitor.errors import Forbidden, Unauthorized
from monitor.store.ports import Store
from monitor.tokens import Scope

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """Who is calling: a token's name and scope, or nobody (an anonymous loopback read)."""

    name: str | None
    scope: Scope | None

    @property
    def actor(self) -> str:
        """How the audit trail names the caller."""
        return "anonymous" if self.name is None else f"token:{self.name}"


ANONYMOUS = Caller(name=None, scope=None)


def anonymous_reads(state: AppState) -> bool:
    api = state.settings.api
    return api.anonymous_loopback_reads and loopback_only(api.host)


def authorize(state: AppState, store: Store, header: str | None, needed: Scope) -> Caller:
    """The caller, or :class:`Unauthorized` / :class:`Forbidden` saying what is missing."""
    text = tokens.bearer(header)
    if text is None:
        if needed == "read" and anonymous_reads(state):
            return ANONYMOUS
        raise Unauthorized(
            f"this request needs an API token of scope {needed!r}: Authorization: Bearer <token>"
        )
    if text == "":
        raise Unauthorized("the Authorization header is not a bearer token: Authorization: Bearer <token>")
    record = store.authenticate_token(text, state.expiry_now())  # real time, never stepped back
    if record is None:
        raise Unauthorized("the API token is not valid: unknown, revoked, expired or mistyped")
    if not tokens.covers(record.scope, needed):
        raise Forbidden(f"token {record.name!r} has scope {record.scope!r}; this request needs {needed!r}")
    return Caller(name=record.name, scope=record.scope)


def _check(state: AppState, header: str | None, needed: Scope) -> Caller:
    with state.session() as store:
        return authorize(state, store, header, needed)


# Declares the scheme in the OpenAPI document (the Authorize button of /docs) and marks every route that
# depends on caller or admin as needing it; the header itself is read and checked by _check.
bearer = HTTPBearer(
    scheme_name="bearer",
    auto_error=False,
    description=(
        "An API token, from `vialguard token create --scope read|write|admin` or POST /api/v1/tokens."
        " Scopes nest: admin covers write, which covers read. Reads need no token while the server binds"
        " to loopback only (`[api] anonymous_loopback_reads`)."
    ),
)
BearerScheme = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
AdminScheme = Annotated[HTTPAuthorizationCredentials | None, Security(bearer, scopes=["admin"])]


def scope_for(method: str) -> Scope:
    """The scope a request needs by its method alone: read for GET, HEAD and OPTIONS, else write."""
    return "read" if method.upper() in _READ_METHODS else "write"


async def caller(request: Request, state: State, _: BearerScheme) -> Caller:
    # ``async`` and no thread hop: a loopback anonymous read touches nothing; a token costs one indexed read.
    return _check(state, request.headers.get("authorization"), scope_for(request.method))


async def admin(request: Request, state: State, _: AdminScheme) -> Caller:
    return _check(state, request.headers.get("authorization"), "admin")


CallerDep = Annotated[Caller, Depends(caller)]
AdminDep = Annotated[Caller, Depends(admin)]
