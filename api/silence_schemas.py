"""The JSON shapes of silences."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.params import SaneTime
from api.schemas import NonEmpty

MatcherValue = Annotated[str, Field(min_length=1, max_length=200)]


class SilenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matchers: dict[str, MatcherValue] = Field(
        description="label -> exact value, all of which must match: rule, severity, alert_class, location,"
        " vial, sensor (keys) or fingerprint",
        max_length=7,
    )
    starts_at: SaneTime | None = Field(default=None, description="default: now")
    ends_at: SaneTime | None = Field(default=None, description="give this or duration_seconds")
    duration_seconds: Annotated[float, Field(gt=0, le=366 * 86_400)] | None = None
    created_by: NonEmpty
    comment: NonEmpty = Field(description="why; required")

    @model_validator(mode="after")
    def _one_end(self) -> SilenceCreate:
        if (self.ends_at is None) == (self.duration_seconds is None):
            raise ValueError("give exactly one of ends_at and duration_seconds")
        return self


class SilenceExpire(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: NonEmpty


class Silence(BaseModel):
    id: int
    matchers: dict[str, str]
    starts_at: str | None
    ends_at: str | None
    created_by: str
    comment: str
    created_at: str | None
    expired_by: str | None
    expired_at: str | None
    active: bool
