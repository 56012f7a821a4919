"""Who may ask central what: every route but ``/healthz`` needs one of central's operator tokens
(:mod:`fleet.central.operators`, ``vialguard central-token create``), ``read`` to read and ``write`` to
issue a command to a site.

Central holds every site's records, so unlike a site on loopback it takes no anonymous reads: one rule for
its own routes and for each site's API it serves under ``/sites/`` (:mod:`fleet.central.site_apps`). The
one exception is the server-rendered ``/fleet`` page, which a browser opens without a way to send a
token: it is served anonymously only while central listens on loopback alone (the demo, or a reverse
proxy on the same machine that signs its users in), and refused otherwise.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import psycopg
from fastapi import Depends, HTTPException, Request

from fleet.central import operators
from fleet.central.connection import Conn, WriteConn
from monitor import tokens
from monitor.tokens import Scope

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def operator_name(request: Request, conn: psycopg.Connection[tuple[Any, ...]], needed: Scope) -> str:
    """The name of the operator whose token, of scope ``needed`` or wider, the request carries; 401 for
    a missing or invalid token, 403 for too narrow a scope."""
    text = tokens.bearer(request.headers.get("authorization"))
    if text is None:
        raise HTTPException(
            401,
            f"this request needs an operator token of scope {needed!r} (vialguard central-token create):"
            " Authorization: Bearer <token>",
            headers=_CHALLENGE,
        )
    record = None if text == "" else operators.authenticate(conn, text, time.time())
    if record is None:
        raise HTTPException(
            401, "the operator token is not valid: unknown, revoked, expired or mistyped", headers=_CHALLENGE
        )
    if not tokens.covers(record.scope, needed):
        raise HTTPException(
            403, f"token {record.name!r} has scope {record.scope!r}; this request needs {needed!r}"
        )
    return record.name


def read_token(request: Request, conn: Conn) -> str:
    """The operator a ``read`` token names; the handler is given the same connection, so the check
    costs no second connect."""
    return operator_name(request, conn, "read")


def write_token(request: Request, conn: WriteConn) -> str:
    """The operator a ``write`` token names."""
    return operator_name(request, conn, "write")


def admin_token(request: Request, conn: Conn) -> str:
    """The operator an ``admin`` token names: central's own audit trail, as a site's needs ``admin``."""
    return operator_name(request, conn, "admin")


Reader = Annotated[str, Depends(read_token)]
Operator = Annotated[str, Depends(write_token)]
Admin = Annotated[str, Depends(admin_token)]


def page_reader(request: Request, conn: Conn) -> str | None:
    """The ``/fleet`` page's caller: anonymous while central listens on loopback alone, otherwise the
    operator a ``read`` token names (which only a proxy in front can add to a browser's request)."""
    if request.app.state.anonymous_page:
        return None
    return operator_name(request, conn, "read")


PageReader = Annotated[str | None, Depends(page_reader)]
