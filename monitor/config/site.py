"""The site: its locations, their sensors (with calibration) and the vials placed there."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from monitor.config.fields import Key, SensorInterval, StrictModel
from monitor.model.quantities import Quantity
from monitor.plausibility import QUANTITY_RANGES


class LocationConfig(StrictModel):
    key: Key
    name: str = Field(min_length=1)
    kind: Literal["fridge", "cabinet", "room", "other"] = "fridge"
    # The lamp lighting the vials here, for the spectrum factor κ_s (a key of the profiles' [lamps]);
    # left out: "unknown", whose wide κ range widens the potency bounds.
    lamp: str | None = None
    # What to assume for light the sensor did not see (gaps, saturated readings), for the potency's low
    # bound; left out: the highest lux recorded here.
    worst_case_lux: Annotated[float, Field(ge=0, le=QUANTITY_RANGES["light"].high)] | None = None


class CalibrationConfig(StrictModel):
    """A linear correction after conversion (corrected = gain · raw + offset) and its certificate."""

    offset: float = 0.0
    gain: Annotated[float, Field(gt=0)] = 1.0
    certificate_id: str | None = None
    calibrated_on: date | None = None
    due_on: date | None = None  # overdue from the day after
    expanded_uncertainty: Annotated[float, Field(ge=0)] | None = None  # in the quantity's unit, k = 2
    # UV sensors (LTR390): W/m² of 300-400 nm per UV index, from a radiometer; unset: an assumed figure
    near_uv_w_per_m2_per_uvi: Annotated[float, Field(gt=0)] | None = None


class SensorConfig(StrictModel):
    key: Key
    location: Key
    quantity: Quantity
    driver: str = "simulated"
    address: Annotated[int, Field(ge=0x03, le=0x77)] | None = None  # I2C 7-bit address
    bus: int = 1
    device_id: str | None = None  # 1-Wire id, e.g. "28-0316a2791aff"
    interval_seconds: SensorInterval | None = None  # default: 1 s for light, 10 s for temperature
    max_gap_seconds: SensorInterval | None = None  # default: 3 intervals, and at least 5 s
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig)

    @model_validator(mode="after")
    def _gap_holds_an_interval(self) -> Self:
        if self.max_gap < self.interval:
            raise ValueError(
                f"max_gap_seconds {self.max_gap:g} is shorter than the sensor's interval {self.interval:g}:"
                " every interval between its readings would be a gap in its ledger"
            )
        return self

    @property
    def interval(self) -> float:
        if self.interval_seconds is not None:
            return self.interval_seconds
        return 1.0 if self.quantity == "light" else 10.0

    @property
    def max_gap(self) -> float:
        if self.max_gap_seconds is not None:
            return self.max_gap_seconds
        return max(3.0 * self.interval, 5.0)


class VialConfig(StrictModel):
    key: Key
    drug: str
    form: str
    lot: str = Field(min_length=1)
    location: Key
    packaging: str
    expiry: str | None = None
    initial_potency_percent: Annotated[float, Field(gt=0, le=150)] = 100.0
