"""The API's JSON shapes. Units are in field names; times are UTC ISO 8601 strings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter
from typing_extensions import TypedDict

from api.params import SaneTime
from monitor.alerts.vocabulary import AlertClass, AlertState, Severity
from monitor.model.verdict import Basis, Colour, LimitedBy, Verdict
from monitor.timestamps import iso_utc

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def iso(ts: float | None) -> str | None:
    """ISO 8601 in UTC; None for no time, and for a stored number that is no representable date."""
    return None if ts is None else iso_utc(ts)


class Alert(BaseModel):
    id: int
    fingerprint: str
    rule: str
    severity: Severity
    state: AlertState = Field(
        description="pending: an excursion in progress, its time rule not met yet; firing: a breach"
    )
    alert_class: AlertClass
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


class AlertFields(TypedDict):
    """:class:`Alert`'s fields in its order, as plain data: a page of alerts serialised from the store's
    typed records without building and re-validating a model per alert. ``tests/api/test_alert_page_bytes.py``
    holds the fields equal to :class:`Alert`'s and the bytes equal to :class:`AlertPage`'s."""

    id: int
    fingerprint: str
    rule: str
    severity: Severity
    state: AlertState
    alert_class: AlertClass
    location: str | None
    vial: str | None
    sensor: str | None
    started_at: str | None
    fired_at: str | None
    ended_at: str | None
    value: float | None
    worst_value: float | None
    message: str
    acknowledged_by: str | None
    acknowledgement_comment: str | None
    acknowledged_at: str | None
    escalated_at: str | None
    silenced: bool
    silence_id: int | None
    seq: int


class AlertPageFields(TypedDict):
    """:class:`AlertPage` as plain data, for :data:`ALERT_PAGE_JSON`."""

    alerts: list[AlertFields]
    cursor: int
    has_more: bool


ALERT_PAGE_JSON = TypeAdapter(AlertPageFields)
"""Serialises an :class:`AlertPageFields` to the JSON bytes :meth:`AlertPage.model_dump_json` gives."""


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


class Bounds(BaseModel):
    """A quantity's best estimate and the low and high ends the data and the model's ranges allow."""

    best: float
    low: float
    high: float


class ModelParameter(BaseModel):
    name: str
    symbol: str
    value: float
    low: float
    high: float
    unit: str
    provenance: Literal["sourced", "derived", "assumed"]
    source: str = Field(
        description="where the number comes from (§ of the project's photokinetics reference)"
    )


class TimeToThreshold(BaseModel):
    threshold_percent: float
    hours: float | None = Field(
        description="hours left: the earlier of the low bound's model time at current conditions and the"
        " label's limit after reconstitution; null when nothing degrades the vial now"
    )
    hours_best: float | None = Field(description="from the best estimate at current conditions")
    hours_low: float | None = Field(description="from the low bound at current conditions")
    label_deadline_at: str | None = Field(description="reconstitution time plus the label's limit")
    limited_by: Literal["model", "label"]


class VialVerdict(BaseModel):
    """The one verdict on a vial; every surface (page, API, reports, command line) shows this one."""

    verdict: Verdict = Field(
        description="use | watch (low bound below the warning threshold) | do-not-use (low bound below"
        " the critical threshold, the label's limit after reconstitution passed, or discarded)"
    )
    label: str = Field(description="the verdict in words: Use, Watch, Do not use")
    colour: Colour = Field(description="vial-monitor colour of the verdict: green, amber, red")
    basis: Basis = Field(description="the potency value the verdict reads: the low bound, as the alerts")
    basis_percent: float = Field(description="that low bound, % of label")
    hours_left: float | None = Field(
        description="hours until do-not-use at present conditions: the earlier of the low bound's model"
        " time to the critical threshold and the label's deadline; 0 once reached; null when not at"
        " present conditions or no longer in stock"
    )
    limited_by: LimitedBy | None = Field(description="what sets hours_left: the model or the label")
    label_deadline_at: str | None = Field(description="reconstitution time plus the label's limit")
    time_left: str = Field(description="hours_left in words, as every surface prints it")
    reason: str = Field(description="why this verdict, in words")
    in_stock: bool = Field(description="false once administered, discarded or handed over to another site")


class VialHandOver(BaseModel):
    """A vial leaving this site for another ('out') or arriving from one ('in')."""

    direction: Literal["out", "in"]
    site: str = Field(description="the site it went to ('out') or came from ('in')")
    at: str | None = Field(description="the hand-over's true time")
    checksum: str = Field(description="the hand-over document's SHA-256 checksum")


class Vial(BaseModel):
    id: int
    key: str
    drug: str
    form: str
    lot: str
    expiry: str | None
    status: Literal["active", "administered", "discarded", "handed-over"]
    location: str | None
    packaging: str | None
    registered_at: str | None
    initial_potency_percent: float
    potency_percent: float
    effective_lux_hours: float = Field(
        description="∫ κ_s · τ_pkg · E dt over the vial's life, lux·h (κ_s = 1 for the default lamp)"
    )
    potency_as_of: str | None
    potency_bounds_percent: Bounds | None = Field(
        None, description="potency best / low / high, % of label; potency alerts use the low bound"
    )
    effective_lux_hours_bounds: Bounds | None = None
    potency_uncertainty: list[str] = Field(
        default_factory=list, description="what widened the bounds (calibration, gaps, saturation, ranges)"
    )
    lamp: str | None = Field(None, description="lamp type at the vial's location (spectrum factor κ_s)")
    reconstituted_at: str | None = None
    verdict: VialVerdict
    time_to_threshold: TimeToThreshold | None = None
    model_parameters: list[ModelParameter] | None = Field(
        None, description="the model's constants for this vial with provenance (GET /api/v1/vials/{id})"
    )
    received_from: str | None = Field(
        None, description="the site the vial came from, when it was received from another site"
    )
    received_at: str | None = Field(None, description="when it was handed over to this site")
    handed_over_to: str | None = Field(None, description="the site it went to, when handed over from here")
    handed_over_at: str | None = Field(None, description="when it left this site")
    hand_overs: list[VialHandOver] = Field(
        default_factory=list, description="every hand-over between sites this site holds, in time order"
    )


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
    registered_at: SaneTime | None = Field(
        None, description="when the vial arrived (ISO 8601 with a zone); default now"
    )


class HandOverIn(BaseModel):
    """A vial leaving this site for another: its state then travels in the document returned."""

    model_config = ConfigDict(extra="forbid")
    to_site: NonEmpty = Field(description="the receiving site's name, as its [fleet] site or site_name")
    at: SaneTime | None = Field(
        None, description="when it left (ISO 8601 with a zone); default now; not before its last event"
    )


class HandOverDone(BaseModel):
    document: dict[str, Any] = Field(
        description="the hand-over document: take it, unchanged, to POST /api/v1/vials/receive at the"
        " receiving site (its checksum refuses any change)"
    )
    vial: Vial = Field(description="the vial here after the hand-over: out of stock, history kept")


class ReceiveIn(BaseModel):
    """A vial arriving from another site, with the document its sending site returned."""

    model_config = ConfigDict(extra="forbid")
    document: dict[str, Any]
    location: NonEmpty = Field(description="the location here it goes to")


class Received(BaseModel):
    vial: Vial
    repeated: bool = Field(description="true when this document had been received already: the same receipt")


class PotencyPoint(BaseModel):
    at: str | None
    potency_percent: Bounds
    effective_lux_hours: float


class VialEventIn(BaseModel):
    """Something that happened to a vial, at its true time (recorded late is fine)."""

    model_config = ConfigDict(extra="forbid")
    kind: NonEmpty = Field(
        description="moved (needs location) | packaging-changed (needs packaging) | reconstituted"
        " | administered | discarded"
    )
    at: SaneTime | None = Field(None, description="when it happened (ISO 8601 with a zone); default now")
    location: NonEmpty | None = None
    packaging: NonEmpty | None = Field(
        None, description="the packaging state after it, e.g. window-open, syringe (GET /api/v1/profiles)"
    )
    detail: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class VialEventOut(BaseModel):
    id: int
    kind: str
    at: str | None
    location: str | None
    packaging: str | None
    detail: str
    recorded_at: str | None


class VialEventRecorded(BaseModel):
    event: VialEventOut
    vial: Vial


class NearUvDose(BaseModel):
    sensor: str = Field(description="the UV sensor (LTR390) whose readings this integrates")
    as_of: str | None
    wh_per_m2: float = Field(description="cumulative 300-400 nm irradiance estimate since its first reading")
    ich_q1b_wh_per_m2: float = Field(description="ICH Q1B confirmatory near-UV exposure, 200 W·h/m²")
    fraction_of_ich_q1b: float
    assumption: str = Field(description="what the estimate rests on")


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
    lamp: str | None = Field(
        None, description="lamp type lighting the location (`unknown` if not configured)"
    )
    spectrum_factor: ModelParameter | None = Field(
        None,
        description="κ_s of the lamp: photolysis per lux relative to cool-white fluorescent, with provenance",
    )
    worst_case_lux: float | None = Field(
        None, description="assumed for light the sensor did not see; null: the highest lux seen is used"
    )
    measured_spectrum_factor: ModelParameter | None = Field(
        None,
        description="κ_s of the newest lit reading of the location's spectral sensor (AS7341), or without "
        "one of its UV sensor (LTR390: the lamp and daylight mixed as its near-UV per lux says), which "
        "replaces the lamp's in the model; null without either",
    )
    near_uv: NearUvDose | None = Field(
        None, description="near-UV dose from a UV sensor (LTR390); null without one"
    )


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
