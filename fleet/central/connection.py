"""A PostgreSQL connection per request for central's handlers, from the app's database URL: ``Conn`` for
reads, ``WriteConn`` (autocommit) for the handlers that write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, HTTPException, Request


def _open(request: Request, *, autocommit: bool) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    try:
        conn = psycopg.connect(request.app.state.database_url, connect_timeout=5, autocommit=autocommit)
    except psycopg.Error as exc:
        raise HTTPException(503, f"central's database is unavailable: {exc}") from exc
    try:
        yield conn
    finally:
        conn.close()


def _connection(request: Request) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    yield from _open(request, autocommit=False)


def _write_connection(request: Request) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    # Autocommit: each write is its own transaction block, never a savepoint inside the implicit
    # transaction a first read (the token's) would otherwise open and leave uncommitted.
    yield from _open(request, autocommit=True)


Conn = Annotated[psycopg.Connection[tuple[Any, ...]], Depends(_connection)]
WriteConn = Annotated[psycopg.Connection[tuple[Any, ...]], Depends(_write_connection)]
