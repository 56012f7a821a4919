"""A PostgreSQL connection per request for central's handlers, from the app's database URL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, HTTPException, Request


def _connection(request: Request) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    try:
        conn = psycopg.connect(request.app.state.database_url, connect_timeout=5)
    except psycopg.Error as exc:
        raise HTTPException(503, f"central's database is unavailable: {exc}") from exc
    try:
        yield conn
    finally:
        conn.close()


Conn = Annotated[psycopg.Connection[tuple[Any, ...]], Depends(_connection)]
