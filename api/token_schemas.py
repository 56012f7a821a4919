"""API tokens as the API shows them: never their text, except once in the answer that created one."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from monitor.tokens import MAX_TOKEN_SECONDS, NAME_PATTERN, NAME_RULE, Scope


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        pattern=NAME_PATTERN, description=f"who or what uses it, e.g. nurse-station: {NAME_RULE}"
    )
    scope: Scope
    expires_in_seconds: float | None = Field(
        None,
        gt=0,
        le=MAX_TOKEN_SECONDS,
        description="refused after this long (real time); none: until revoked",
    )


class Token(BaseModel):
    name: str
    scope: Scope
    token_id: str = Field(description="the public part of the token: vg_<token_id>_...")
    created_at: str
    revoked_at: str | None
    expires_at: str | None = Field(description="refused from then on (real time); null: until revoked")
    state: str = Field(description="live, revoked or expired")


class TokenCreated(Token):
    token: str = Field(description="the token itself: shown this once, never stored or shown again")
