"""A number with its provenance and range: the unit every model constant and data file is written in."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Provenance = Literal["sourced", "derived", "assumed"]


class Constant(BaseModel):
    """A number with its provenance: sourced, derived (from sourced figures) or assumed (a placeholder).

    ``low`` and ``high`` give the range the source allows (photokinetics.md §7, "Range for sensitivity");
    left out, the value is taken as exact. The uncertainty bounds on potency use them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    value: float
    provenance: Provenance
    source: str = Field(min_length=1)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _range_holds_value(self) -> Self:
        if self.low is not None and self.low > self.value:
            raise ValueError(f"low {self.low:g} is above the value {self.value:g}")
        if self.high is not None and self.high < self.value:
            raise ValueError(f"high {self.high:g} is below the value {self.value:g}")
        return self

    @property
    def lowest(self) -> float:
        return self.value if self.low is None else self.low

    @property
    def highest(self) -> float:
        return self.value if self.high is None else self.high
