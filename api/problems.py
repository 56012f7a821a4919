"""Every error answer in one shape: RFC 9457 problem details, ``application/problem+json``.

::

    {"type": "about:blank", "title": "Not Found", "status": 404,
     "detail": "no vial with id 999", "error": "not found", "message": "no vial with id 999"}

``title`` is the status's standard phrase (``type`` is ``about:blank``: the status says what kind of problem
it is); ``detail`` names the problem and what to fix. Two extension members keep clients written before
problem details working: ``error``, a short stable code (``unauthorized``, ``forbidden``, ``not found``,
``invalid request``, ``request too large``, ``storage unavailable`` ...), and ``message``, the same text as
``detail``. Generic clients read ``status`` and ``detail``.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = Field(default="about:blank", description="about:blank: the status says the kind of problem")
    title: str = Field(description="the HTTP status's phrase, e.g. 'Not Found'")
    status: int = Field(ge=400, le=599, description="the HTTP status code, repeated")
    detail: str = Field(description="what is wrong, naming the field or the value, and what to do")
    error: str = Field(description="a short, stable code: 'not found', 'invalid request', 'unauthorized' ...")
    message: str = Field(description="the same as detail (kept for clients written before problem details)")


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(status: int, error: str, detail: str) -> dict[str, Any]:
    """The body of an error answer."""
    return Problem(
        title=phrase(status), status=status, detail=detail, error=error, message=detail
    ).model_dump()


def problem_bytes(status: int, error: str, detail: str) -> bytes:
    """The body, encoded, for a middleware that answers before routing."""
    return json.dumps(problem(status, error, detail)).encode()


def problem_response(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        problem(status, error, detail), status_code=status, headers=headers, media_type=MEDIA_TYPE
    )
