"""Parameter types shared by the routes.

SQLite integers are 64-bit: a larger id or cursor cannot name anything, and passing one to SQLite raises
OverflowError, so they are refused at validation with a 422 naming the parameter. Times likewise: any
time a request carries lies between 1970 and 2200 UTC (:mod:`monitor.timestamps`), or is a 422 naming it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime

from monitor.timestamps import window_problem

SQLITE_MAX_INTEGER = 2**63 - 1

RowId = Annotated[int, Path(ge=-SQLITE_MAX_INTEGER, le=SQLITE_MAX_INTEGER)]
SINCE_MAX = SQLITE_MAX_INTEGER


def _in_window(dt: datetime) -> datetime:
    problem = window_problem(dt)
    if problem is not None:
        raise ValueError(problem)
    return dt


SaneTime = Annotated[AwareDatetime, AfterValidator(_in_window)]
"""An ISO 8601 time with a zone, between 1970-01-01 and 2200-01-01 UTC."""
