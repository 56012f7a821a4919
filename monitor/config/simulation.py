"""The simulated fridge: door openings, its lamp and the scenarios played on it."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from monitor.config.fields import Seconds, StrictModel, UtcOffsetHours
from monitor.plausibility import QUANTITY_RANGES


class ScenarioConfig(StrictModel):
    kind: Literal["door-left-open", "light-stuck-on", "sensor-dropout", "temperature-excursion"]
    start_after_seconds: Annotated[float, Field(ge=0)]
    duration_seconds: Seconds
    # What a sensor could report: a simulated fridge beyond it makes only refused readings.
    lux: Annotated[float, Field(ge=0, le=QUANTITY_RANGES["light"].high)] = 600.0
    celsius: Annotated[
        float, Field(ge=QUANTITY_RANGES["temperature"].low, le=QUANTITY_RANGES["temperature"].high)
    ] = 12.0
    sensor: str | None = None


class SimulationConfig(StrictModel):
    seed: int = 1
    openings_per_day: Annotated[float, Field(ge=0)] = 10.0
    opening_hours: tuple[Annotated[float, Field(ge=0, le=24)], Annotated[float, Field(ge=0, le=24)]] = (
        8.0,
        20.0,
    )
    utc_offset_hours: UtcOffsetHours = 0.0
    # The simulated fridge's lamp, whose spectrum spectral and UV chips see (e.g. "fluorescent-cool-white",
    # "daylight-window"); checked against the known spectra when the simulation is built.
    lamp: str = "led-4000k"
    scenarios: list[ScenarioConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _hours_in_order(self) -> Self:
        start, end = self.opening_hours
        if not start < end:
            raise ValueError(f"opening_hours: the opening hour {start:g} must be before the closing {end:g}")
        return self
