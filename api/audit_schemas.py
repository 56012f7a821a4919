"""The audit trail as the API shows it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class AuditEntry(BaseModel):
    id: int
    at: str
    actor: str = Field(
        description="the token that made the change (token:NAME), or console:USER for commands"
    )
    action: str = Field(description="e.g. alert.acknowledged, silence.created, token.created, vial.moved")
    subject: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    cursor: int = Field(description="pass as `after` for the next page")
    has_more: bool


class AuditCheck(BaseModel):
    intact: bool
    rows: int
    head_hash: str
    problems: list[str]
