"""The store interface (:mod:`monitor.store.ports`) on SQLite: a session over one connection.

Each method calls the query function of this package that holds its SQL (or, for the views, the function
that computes from history); none holds SQL of its own. Every public method runs inside
:func:`~monitor.store.database.sqlite_errors`, so a SQLite error leaves as the store's own
(:class:`~monitor.errors.StoreUnavailable` and its siblings), never as ``sqlite3.Error``.
"""

from __future__ import annotations

import functools
import inspect
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from monitor import (
    handover_audited,
    lifecycle,
    measured_light,
)
from monitor.alerts.vocabulary import AlertState, Severity
from monitor.audit import AuditRow, ChainCheck
from monitor.handover import HandOver, Receipt
from monitor.lifecycle import NewEvent
from monitor.measured_light import NearUvDose
from monitor.model.ledger import Tail
from monitor.model.profiles import Catalog
from monitor.model.quantities import Quantity
from monitor.model.verdict import Thresholds
from monitor.site_view import SiteView
from monitor.store import (
    alerts,
    audit,
    clocks,
    handovers,
    health,
    keys,
    location_light,
    readings,
    runs,
    serial_links,
    sites,
    spectral,
    system_alerts,
    webhooks,
)
from monitor.store import database as db
from monitor.store import silences as silence_store
from monitor.store import tokens as token_store
from monitor.store import vials as vial_store
from monitor.store.handovers import HandoverRecord
from monitor.store.ports import (
    AlertEvent,
    AlertFilter,
    AlertRecord,
    BootRecord,
    EndpointState,
    FaultCount,
    Heartbeat,
    KeyNames,
    LocationLight,
    LocationRecord,
    MeasuredKappa,
    NewestReading,
    RejectCount,
    SensorRecord,
    SilenceRecord,
    SystemEvent,
    TokenRecord,
    VialEvent,
    VialRecord,
)
from monitor.store.sqlite_views import SqliteViews
from monitor.system_checks import Finding, SystemLimits
from monitor.tokens import Scope

_P = ParamSpec("_P")
_R = TypeVar("_R")
_C = TypeVar("_C", bound=type)


def _translating(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    @functools.wraps(fn)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:  # as db.sqlite_errors(), without a context manager's cost on every call
            return fn(*args, **kwargs)
        except sqlite3.Error as exc:
            raise db.store_error(exc) from exc

    return call


def translating_errors(cls: _C) -> _C:
    """Wrap every public method of ``cls`` in :func:`~monitor.store.database.sqlite_errors`: one
    boundary, which a method added later cannot forget."""
    for klass in reversed(cls.__mro__[:-1]):  # inherited methods too, the class's own winning
        for name, member in list(vars(klass).items()):
            if not name.startswith("_") and inspect.isfunction(member):
                setattr(cls, name, _translating(member))
    return cls


@translating_errors
class SqliteStore(SqliteViews):
    """:class:`~monitor.store.ports.Store` over one connection, used by one caller at a time."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # Transactions: the translation must cover BEGIN and COMMIT too, which run outside the method call.
    @contextmanager
    def snapshot(self) -> Iterator[None]:
        with db.sqlite_errors(), db.snapshot(self.conn):
            yield

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with db.sqlite_errors(), db.transaction(self.conn):
            yield

    # Alerts
    def latest_alert_seq(self) -> int:
        return alerts.latest_seq(self.conn)

    def alerts_changed_since(self, cursor: int, where: AlertFilter, limit: int) -> list[AlertRecord]:
        return alerts.changed_since(self.conn, cursor, where=where, limit=limit)

    def alert(self, alert_id: int) -> AlertRecord:
        return alerts.get(self.conn, alert_id)

    def alert_events(self, alert_id: int) -> list[AlertEvent]:
        return alerts.events(self.conn, alert_id)

    def acknowledge_alert(self, alert_id: int, by: str, comment: str, ts: float, actor: str) -> AlertRecord:
        return alerts.acknowledge_audited(self.conn, alert_id, by, comment, ts, actor)

    def alert_counts(self) -> dict[tuple[AlertState, Severity], int]:
        return alerts.counts(self.conn)

    def key_names(self) -> KeyNames:
        return keys.key_names(self.conn)

    # Audit
    def append_audit(
        self, ts: float, actor: str, action: str, subject: str, detail: Mapping[str, Any]
    ) -> AuditRow:
        return audit.append(self.conn, ts, actor, action, subject, detail)

    def audit_entries(self, after_id: int, limit: int) -> list[AuditRow]:
        return audit.entries(self.conn, after_id, limit)

    def check_audit(self) -> ChainCheck:
        return audit.check(self.conn)

    # Silences
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
        return silence_store.create_audited(
            self.conn, matchers, starts_ts, ends_ts, created_by, comment, now, actor
        )

    def silence(self, silence_id: int) -> SilenceRecord:
        return silence_store.get(self.conn, silence_id)

    def silences(self, active_at: float | None = None) -> list[SilenceRecord]:
        return silence_store.list_all(self.conn, active_at=active_at)

    def expire_silence(self, silence_id: int, by: str, now: float, actor: str) -> SilenceRecord:
        return silence_store.expire_audited(self.conn, silence_id, by, now, actor)

    # Tokens
    def authenticate_token(self, text: str, now: float) -> TokenRecord | None:
        return token_store.authenticate(self.conn, text, now)

    def tokens(self) -> list[TokenRecord]:
        return token_store.list_all(self.conn)

    def create_token(
        self, name: str, scope: Scope, ts: float, expires_ts: float | None, actor: str
    ) -> tuple[TokenRecord, str]:
        return token_store.create_audited(self.conn, name, scope, ts, expires_ts, actor)

    def revoke_token(self, name: str, ts: float, actor: str) -> TokenRecord:
        return token_store.revoke_audited(self.conn, name, ts, actor)

    # Locations and sensors
    def locations(self) -> list[LocationRecord]:
        return sites.list_locations(self.conn)

    def location(self, key: str) -> LocationRecord:
        return sites.location_by_key(self.conn, key)

    def location_by_id(self, location_id: int) -> LocationRecord:
        return sites.location_by_id(self.conn, location_id)

    def location_light(self, location_id: int) -> LocationLight:
        return location_light.of(self.conn, location_id)

    def sensors(self) -> list[SensorRecord]:
        return sites.list_sensors(self.conn)

    def primary_sensor(self, location_id: int, quantity: Quantity) -> SensorRecord | None:
        return sites.primary_sensor(self.conn, location_id, quantity)

    def newest_reading(self, sensor: SensorRecord) -> NewestReading | None:
        newest = readings.latest(self.conn, sensor)
        return None if newest is None else NewestReading(*newest)

    def ledger_tail(self, sensor: SensorRecord) -> Tail | None:
        return readings.tail(self.conn, sensor)

    def sensor_fault_counts(self) -> list[FaultCount]:
        return sites.fault_counts(self.conn)

    # Spectrum
    def spectral_sensor(self, location_id: int, *, near_uv: bool = False) -> SensorRecord | None:
        return spectral.spectral_sensor(self.conn, location_id, near_uv=near_uv)

    def measured_kappa(self, catalog: Catalog, location_id: int) -> MeasuredKappa | None:
        measured = measured_light.latest_measured_kappa(SiteView(self.conn), catalog, location_id)
        return None if measured is None else MeasuredKappa(*measured)

    def near_uv_dose(self, location_id: int) -> NearUvDose | None:
        return measured_light.near_uv_dose(self.conn, location_id)

    # Vials
    def vials(self, *, active_only: bool = False) -> list[VialRecord]:
        return vial_store.list_all(self.conn, active_only=active_only)

    def vial(self, vial_id: int) -> VialRecord:
        return vial_store.get(self.conn, vial_id)

    def vial_by_key(self, key: str) -> VialRecord | None:
        return vial_store.by_key(self.conn, key)

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
        return vial_store.register(
            self.conn,
            key=key,
            drug=drug,
            form=form,
            lot=lot,
            expiry=expiry,
            initial_potency_percent=initial_potency_percent,
            location_id=location_id,
            packaging=packaging,
            ts=ts,
            recorded_ts=recorded_ts,
        )

    def vial_events(self, vial_id: int) -> list[VialEvent]:
        return vial_store.events(self.conn, vial_id)

    def record_vial_event(self, catalog: Catalog, vial: VialRecord, event: NewEvent, now: float) -> int:
        return lifecycle.record_event(self.conn, catalog, vial, event, now)

    def hand_over_vial(
        self,
        catalog: Catalog,
        vial: VialRecord,
        *,
        from_site: str,
        to_site: str,
        ts: float,
        now: float,
        thresholds: Thresholds,
        actor: str,
    ) -> HandOver:
        return handover_audited.hand_over(
            self.conn,
            catalog,
            vial,
            from_site=from_site,
            to_site=to_site,
            ts=ts,
            now=now,
            thresholds=thresholds,
            actor=actor,
        )

    def receive_vial(
        self,
        catalog: Catalog,
        document: Mapping[str, Any],
        *,
        site: str,
        location: str,
        now: float,
        actor: str,
    ) -> Receipt:
        return handover_audited.receive(
            self.conn, catalog, document, site=site, location=location, now=now, actor=actor
        )

    def vial_handovers(self, vial_ids: Sequence[int]) -> dict[int, list[HandoverRecord]]:
        return handovers.of_vials(self.conn, vial_ids)

    # The system's own state
    def heartbeat(self) -> Heartbeat | None:
        return health.read(self.conn)

    def real_high_water(self) -> float | None:
        return clocks.real_high_water(self.conn)

    def raise_real_high_water(self, ts: float) -> float:
        return clocks.raise_real_high_water(self.conn, ts)

    def reconcile_system_alerts(self, findings: list[Finding], limits: SystemLimits, now: float) -> int:
        return system_alerts.reconcile(self.conn, findings, limits, now)

    def system_events(self, kind: str | None, newest: int) -> list[SystemEvent]:
        return runs.events(self.conn, kind, newest=newest)

    def serial_boots(self) -> list[BootRecord]:
        return serial_links.list_boots(self.conn)

    def serial_rejects(self) -> list[RejectCount]:
        return serial_links.list_rejects(self.conn)

    # Webhooks
    def webhook_outbox_size(self) -> int:
        return webhooks.pending(self.conn)

    def webhook_endpoints(self) -> list[EndpointState]:
        return webhooks.endpoints(self.conn)
