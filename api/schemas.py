"""The API's JSON shapes. Units are in field names; times are UTC ISO 8601 strings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


class Alert(BaseModel):
    id: int
    fingerprint: str
    rule: str
    severity: Literal["info", "warning", "critical"]
    state: Literal["pending", "firing", "acknowledged", "resolved"] = Field(
        description="pending: an excursion in progress, its time rule not met yet; firing: a breach"
    )
    alert_class: Literal["data", "sensor-trust", "system"]
    location: str | None
    vial: str | None
    sensor: str | None
    started_at: str | None = Field(description="when the condition began")
    fired_at: str | None = Field(
        description="when the alert fired (the time rule met); null while pending or if it never breached"
    )
    ended_at: str | None
    value: float | None = Field(description="the triggering value, in the rule metric's unit")
    worst_value: float | None
    message: str
    acknowledged_by: str | None
    acknowledgement_comment: str | None
    acknowledged_at: str | None
    escalated_at: str | None = Field(description="when it escalated one severity step, unacknowledged")
    silenced: bool = Field(description="a silence covers it: still recorded and polled, not notified")
    silence_id: int | None
    seq: int = Field(description="position of the alert's latest change in the change sequence")


class AlertPage(BaseModel):
    alerts: list[Alert]
    cursor: int = Field(description="pass as `since` to get only changes after this page")
    has_more: bool = Field(default=False, description="the page was full: ask again at once with `cursor`")


class AlertEvent(BaseModel):
    seq: int
    at: str | None
    kind: str
    detail: str


class AlertDetail(Alert):
    events: list[AlertEvent]
    snapshot: dict[str, Any] = Field(
        description="the rule's parameters and the model constants in force when the alert fired"
    )


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: NonEmpty
    comment: NonEmpty


class Vial(BaseModel):
    id: int
    key: str
    drug: str
    form: str
    lot: str
    expiry: str | None
    status: Literal["active", "administered", "discarded"]
    location: str | None
    packaging: str | None
    registered_at: str | None
    initial_potency_percent: float
    potency_percent: float
    effective_lux_hours: float = Field(description="∫ τ_pkg · E dt over the vial's life, lux·h")
    potency_as_of: str | None


class VialRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    drug: NonEmpty
    form: NonEmpty
    lot: NonEmpty
    location: NonEmpty
    packaging: NonEmpty
    expiry: str | None = None
    initial_potency_percent: Annotated[float, Field(gt=0, le=150)] = 100.0


class Location(BaseModel):
    key: str
    name: str
    kind: str
    as_of: str | None
    lux: float | None
    lux_saturated: bool = Field(description="true when lux is only a lower bound")
    celsius: float | None
    cumulative_lux_hours: float
    mean_kinetic_temperature_celsius: float | None = Field(description="USP MKT over the last 24 h of data")


class Sensor(BaseModel):
    key: str
    location: str
    quantity: Literal["light", "temperature"]
    driver: str
    interval_seconds: float
    status: str
    status_detail: str
    status_since: str | None
    last_reading_at: str | None
    last_value: float | None
    unit: Literal["lx", "°C"]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    bridge_heartbeat_age_seconds: float | None
    readings_total: int | None
    detail: str


class Error(BaseModel):
    error: str
    message: str
