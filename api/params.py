"""Parameter types shared by the routes.

SQLite integers are 64-bit: a larger id or cursor cannot name anything, and passing one to SQLite raises
OverflowError, so they are refused at validation with a 422 naming the parameter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

SQLITE_MAX_INTEGER = 2**63 - 1

RowId = Annotated[int, Path(ge=-SQLITE_MAX_INTEGER, le=SQLITE_MAX_INTEGER)]
SINCE_MAX = SQLITE_MAX_INTEGER
