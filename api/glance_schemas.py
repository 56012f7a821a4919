"""JSON shapes of the dashboard's endpoints: the glance, chart series. Units are in field names."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas import Location, Vial
from monitor.model.verdict import Basis, Colour


class Thresholds(BaseModel):
    potency_warning_percent: float
    potency_critical_percent: float
    light_lux: float = Field(description="light at or above this is 'on'; in a fridge, the door is open")
    temperature_low_celsius: float
    temperature_high_celsius: float


class LocationGlance(BaseModel):
    location: Location
    light_on: bool | None = Field(description="the latest reading at or above the light threshold")
    door_openings_today: int = Field(description="light episodes since local midnight (a fridge's door)")
    longest_opening_seconds: float | None
    last_opening_at: str | None
    day_start: str = Field(description="local midnight, from utc_offset_minutes")


class VialGlance(BaseModel):
    vial: Vial
    status: Colour = Field(
        description="the colour of the vial's verdict (vial.verdict): green use, amber watch, red do not use"
    )
    status_basis: Basis = Field(description="which potency value the verdict reads")


class Dashboard(BaseModel):
    site_name: str
    as_of: str | None = Field(description="the server's clock (simulated time in a simulation)")
    thresholds: Thresholds
    locations: list[LocationGlance]
    vials: list[VialGlance]


class LightPoint(BaseModel):
    at: str | None
    lux_min: float
    lux_max: float
    window_lux_hours: float = Field(description="cumulative lux·h since the window's start")
    saturated: bool


class TemperaturePoint(BaseModel):
    at: str | None
    celsius_min: float
    celsius_max: float
    celsius_mean: float


class LocationSeries(BaseModel):
    location: str
    start: str | None
    end: str | None
    bucket_seconds: float
    window_lux_hours: float
    light: list[LightPoint]
    temperature: list[TemperaturePoint]


class PotencyPoint(BaseModel):
    at: str | None
    potency_percent: float
    effective_lux_hours: float
    potency_low_percent: float | None = Field(
        default=None, description="lower bound, where the model has one"
    )
    potency_high_percent: float | None = Field(
        default=None, description="upper bound, where the model has one"
    )


class PotencySeries(BaseModel):
    vial: str
    threshold_warning_percent: float
    threshold_critical_percent: float
    points: list[PotencyPoint]
