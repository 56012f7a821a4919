"""The store as the API sees it: one interface per concern, gathered in :class:`Store`.

The API reaches the database only through these ``Protocol``s, so a second backend (PostgreSQL, for a
fleet) implements them and the routes do not change. :mod:`monitor.store.sqlite_store` is the SQLite
implementation; it wraps the query functions of this package, which stay the one place the SQL lives.

Rules every implementation keeps:

- Methods return plain values or the domain's frozen dataclasses (re-exported here), never rows, cursors
  or connections.
- A missing thing is :class:`~monitor.errors.NotFound` and a refused request
  :class:`~monitor.errors.InvalidRequest`, as the SQLite functions raise them. The driver's own
  exceptions never leave: a database that cannot be used now is
  :class:`~monitor.errors.StoreUnavailable` (HTTP 503, retry), a broken constraint
  :class:`~monitor.errors.IntegrityViolation`, any other refusal :class:`~monitor.errors.StoreFault`.
- A :class:`Store` is one session: one caller at a time, from :meth:`StorePool.session`. Calls outside
  :meth:`Transactions.snapshot` and :meth:`Transactions.transaction` each see the newest committed state.

The views, computed from history (potency, series, glance, reports), are in :mod:`monitor.store.view_ports`;
they are part of :class:`Store` so that no route holds a connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from monitor.alerts.vocabulary import AlertState, Severity
from monitor.audit import AuditRow, ChainCheck
from monitor.lifecycle import NewEvent
from monitor.measured_light import NearUvDose
from monitor.model.bounds import Interval
from monitor.model.ledger import Tail
from monitor.model.profiles import Catalog
from monitor.model.quantities import Quantity
from monitor.store.alerts import AlertEvent, AlertFilter, AlertRecord
from monitor.store.handover_ports import VialMoves
from monitor.store.handovers import HandoverRecord
from monitor.store.health import Heartbeat
from monitor.store.keys import KeyNames
from monitor.store.location_light import LocationLight
from monitor.store.runs import SystemEvent
from monitor.store.serial_links import BootRecord, RejectCount
from monitor.store.silences import SilenceRecord
from monitor.store.sites import FaultCount, LocationRecord, SensorRecord
from monitor.store.tokens import TokenRecord
from monitor.store.vials import VialEvent, VialRecord
from monitor.store.view_ports import LocationViews, ReportStore, VialViews
from monitor.store.webhooks import EndpointState
from monitor.system_checks import Finding, SystemLimits
from monitor.tokens import Scope

__all__ = [
    "AlertEvent",
    "AlertFilter",
    "AlertRecord",
    "AlertStore",
    "AuditStore",
    "BootRecord",
    "EndpointState",
    "FaultCount",
    "HandoverRecord",
    "HealthStore",
    "Heartbeat",
    "KeyNames",
    "LocationLight",
    "LocationRecord",
    "LocationViews",
    "MeasuredKappa",
    "NewestReading",
    "RejectCount",
    "ReportStore",
    "SensorRecord",
    "SilenceRecord",
    "SilenceStore",
    "SiteStore",
    "SpectralStore",
    "Store",
    "StorePool",
    "SystemEvent",
    "TokenRecord",
    "TokenStore",
    "Transactions",
    "VialEvent",
    "VialMoves",
    "VialRecord",
    "VialStore",
    "VialViews",
    "WebhookStore",
]


@dataclass(frozen=True, slots=True)
class NewestReading:
    """A sensor's newest stored reading, in the unit of its quantity (lux or °C)."""

    ts: float
    value: float
    saturated: bool  # a light reading at the chip's ceiling; always False for temperature


@dataclass(frozen=True, slots=True)
class MeasuredKappa:
    """The lamp spectrum factor κ_s a location's spectral (or UV) sensor last gave, and when."""

    ts: float
    kappa: Interval


class Transactions(Protocol):
    def snapshot(self) -> AbstractContextManager[None]:
        """One read transaction: every call inside sees the same committed state."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction, the write lock taken up front: committed on success, rolled back on any
        error. Audit rows appended inside commit with the change they record, or not at all."""
        ...


class AlertStore(Protocol):
    """Alerts, their change feed (one monotonic ``seq``) and acknowledgement."""

    def latest_alert_seq(self) -> int:
        """The newest change's seq; 0 before any. Never goes back, even when old alerts are purged."""
        ...

    def alerts_changed_since(self, cursor: int, where: AlertFilter, limit: int) -> list[AlertRecord]:
        """Alerts whose latest change is after ``cursor`` and that match ``where``, oldest change first."""
        ...

    def alert(self, alert_id: int) -> AlertRecord:
        """One alert; :class:`NotFound` if none has that id."""
        ...

    def alert_events(self, alert_id: int) -> list[AlertEvent]:
        """The alert's changes in seq order."""
        ...

    def acknowledge_alert(self, alert_id: int, by: str, comment: str, ts: float, actor: str) -> AlertRecord:
        """Record who acknowledged the alert and what was done (a change), and its audit row naming
        ``actor``; inside a transaction."""
        ...

    def alert_counts(self) -> dict[tuple[AlertState, Severity], int]:
        """Alerts kept, by state and severity; a pair with none is absent."""
        ...

    def key_names(self) -> KeyNames:
        """Every location's, vial's and sensor's key by id: what alerts are shown with."""
        ...


class AuditStore(Protocol):
    """The hash-chained audit trail."""

    def append_audit(
        self, ts: float, actor: str, action: str, subject: str, detail: Mapping[str, Any]
    ) -> AuditRow:
        """Chain a row onto the trail; inside the transaction of the change it records."""
        ...

    def audit_entries(self, after_id: int, limit: int) -> list[AuditRow]:
        """Rows after ``after_id``, oldest first, at most ``limit``."""
        ...

    def check_audit(self) -> ChainCheck:
        """Verify the whole chain; an edited or deleted row is named among the problems."""
        ...


class SilenceStore(Protocol):
    """Silences; creating or expiring one re-flags the open alerts it covers, in the same transaction."""

    def create_silence(
        self,
        matchers: dict[str, str],
        starts_ts: float,
        ends_ts: float,
        created_by: str,
        comment: str,
        now: float,
        actor: str,
    ) -> SilenceRecord:
        """A new silence and its audit row naming ``actor``; :class:`InvalidRequest` for bad matchers or
        times. Inside a transaction."""
        ...

    def silence(self, silence_id: int) -> SilenceRecord:
        """One silence; :class:`NotFound` if none has that id."""
        ...

    def silences(self, active_at: float | None = None) -> list[SilenceRecord]:
        """Every silence, or with ``active_at`` those in force then."""
        ...

    def expire_silence(self, silence_id: int, by: str, now: float, actor: str) -> SilenceRecord:
        """End a silence now, with its audit row naming ``actor``; :class:`InvalidRequest` if it has
        ended. Inside a transaction."""
        ...


class TokenStore(Protocol):
    """API tokens: only their hashes are stored; creating and revoking one is audited."""

    def authenticate_token(self, text: str, now: float) -> TokenRecord | None:
        """The live token whose text this is at ``now`` (real time), or None."""
        ...

    def tokens(self) -> list[TokenRecord]:
        """Every token, live or not."""
        ...

    def create_token(
        self, name: str, scope: Scope, ts: float, expires_ts: float | None, actor: str
    ) -> tuple[TokenRecord, str]:
        """A new token and its text (shown once), audited; inside a transaction."""
        ...

    def revoke_token(self, name: str, ts: float, actor: str) -> TokenRecord:
        """Revoke the live token of this name, audited; :class:`NotFound` if none. Inside a transaction."""
        ...


class SiteStore(Protocol):
    """Locations and sensors as configured, each sensor's newest reading and the reads it refused."""

    def locations(self) -> list[LocationRecord]:
        """Every location, in the order configured."""
        ...

    def location(self, key: str) -> LocationRecord:
        """The location with this key; :class:`NotFound` if none."""
        ...

    def location_by_id(self, location_id: int) -> LocationRecord:
        """The location with this id; :class:`NotFound` if none."""
        ...

    def location_light(self, location_id: int) -> LocationLight:
        """The location's lamp and worst-case lux, as configured."""
        ...

    def sensors(self) -> list[SensorRecord]:
        """Every sensor, in the order configured."""
        ...

    def primary_sensor(self, location_id: int, quantity: Quantity) -> SensorRecord | None:
        """The sensor whose series is the location's ledger for ``quantity``, or None."""
        ...

    def newest_reading(self, sensor: SensorRecord) -> NewestReading | None:
        """The sensor's newest stored reading, or None before its first."""
        ...

    def ledger_tail(self, sensor: SensorRecord) -> Tail | None:
        """The last point of the sensor's ledger (also past retention's downsampling), or None."""
        ...

    def sensor_fault_counts(self) -> list[FaultCount]:
        """Reads refused before storage, by sensor and kind."""
        ...


class SpectralStore(Protocol):
    """What the spectral (AS7341) and UV (LTR390) sensors measured of the light's spectrum."""

    def spectral_sensor(self, location_id: int, *, near_uv: bool = False) -> SensorRecord | None:
        """The location's spectral sensor, or with ``near_uv`` its UV sensor; None if it has none."""
        ...

    def measured_kappa(self, catalog: Catalog, location_id: int) -> MeasuredKappa | None:
        """κ_s as last measured at the location, or None where nothing ever measured it."""
        ...

    def near_uv_dose(self, location_id: int) -> NearUvDose | None:
        """The location's cumulative near-UV dose, or None where it has no UV sensor or readings."""
        ...


class VialStore(Protocol):
    """Vials and the events of their life."""

    def vials(self, *, active_only: bool = False) -> list[VialRecord]:
        """Every vial (or only those not administered or discarded), in the order registered."""
        ...

    def vial(self, vial_id: int) -> VialRecord:
        """One vial; :class:`NotFound` if none has that id."""
        ...

    def vial_by_key(self, key: str) -> VialRecord | None:
        """The vial with this key, or None."""
        ...

    def register_vial(
        self,
        *,
        key: str,
        drug: str,
        form: str,
        lot: str,
        expiry: str | None,
        initial_potency_percent: float,
        location_id: int,
        packaging: str,
        ts: float,
        recorded_ts: float,
    ) -> int:
        """Register a vial from ``ts``; its id. :class:`InvalidRequest` for a key in use. Inside a
        transaction."""
        ...

    def vial_events(self, vial_id: int) -> list[VialEvent]:
        """The vial's events in the order they happened."""
        ...

    def record_vial_event(self, catalog: Catalog, vial: VialRecord, event: NewEvent, now: float) -> int:
        """Validate ``event`` against the vial's history and store it; its id. :class:`InvalidRequest`
        naming the field. Inside a transaction."""
        ...


class HealthStore(Protocol):
    """The system's own state: the bridge's heartbeat, the clock, system alerts and events, serial links."""

    def heartbeat(self) -> Heartbeat | None:
        """The bridge's last heartbeat, or None before its first."""
        ...

    def real_high_water(self) -> float | None:
        """The latest real time any process has recorded, or None."""
        ...

    def raise_real_high_water(self, ts: float) -> float:
        """Raise the recorded real time to ``ts`` if it is a step past it; the mark after. Inside a
        transaction."""
        ...

    def reconcile_system_alerts(self, findings: list[Finding], limits: SystemLimits, now: float) -> int:
        """Open or resolve system alerts to match the findings; the changes made. Inside a transaction."""
        ...

    def system_events(self, kind: str | None, newest: int) -> list[SystemEvent]:
        """The newest ``newest`` system events (of one kind, or all), newest first."""
        ...

    def serial_boots(self) -> list[BootRecord]:
        """Every microcontroller boot heard of, by device, the most recently heard first."""
        ...

    def serial_rejects(self) -> list[RejectCount]:
        """Serial input refused per port and kind, ordered by port and kind."""
        ...


class WebhookStore(Protocol):
    """The webhook outbox and its receivers' delivery state."""

    def webhook_outbox_size(self) -> int:
        """Alert changes not yet accepted by every receiver."""
        ...

    def webhook_endpoints(self) -> list[EndpointState]:
        """Every receiver's delivery state, ordered by URL."""
        ...


class Store(
    Transactions,
    AlertStore,
    AuditStore,
    SilenceStore,
    TokenStore,
    SiteStore,
    SpectralStore,
    VialStore,
    VialMoves,
    VialViews,
    LocationViews,
    ReportStore,
    HealthStore,
    WebhookStore,
    Protocol,
):
    """Everything the API asks of the database, through one session."""


class StorePool(Protocol):
    """Lends sessions: one per request, each used by one caller at a time."""

    def session(self) -> AbstractContextManager[Store]:
        """A session no other caller holds until the block ends; a read it left open is rolled back."""
        ...

    def close(self) -> None:
        """Close every connection the pool opened."""
        ...
