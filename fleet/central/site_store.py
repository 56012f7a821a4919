"""The store interface (:class:`monitor.store.ports.Store`) for one site, over central's PostgreSQL copy of
it: what lets central serve the site's own API (:func:`api.app.create_app`) unchanged, answering as the
site answers (:mod:`fleet.central.site_apps` mounts it).

What it reads: the config mirror (``site_locations``, ``site_sensors``, ``site_vials``, ``site_settings``)
with the site's own ids, so ``/api/v1/vials/3`` is the site's vial 3; the readings; the site's records
(vial events, hand-overs, audit rows); the alert feed (:mod:`fleet.central.site_alerts`). A vial's potency
and verdict come from central's loader (:mod:`fleet.central.model_inputs`) and the unchanged model, as
the fleet's own vial list computes them (:mod:`fleet.central.site_views`); where central cannot evaluate
a vial as the site would, it says why rather than answer otherwise.

Writes and the views central lacks the data for raise, each naming why and what to do instead
(:mod:`fleet.central.site_refusals`). Tokens are central's operator tokens (:mod:`fleet.central.operators`).

A session is one autocommit connection: each call sees the newest committed state; :meth:`snapshot` is one
``REPEATABLE READ`` read-only transaction. The driver's errors leave as
:class:`~monitor.errors.StoreUnavailable` (the database cannot be reached) or
:class:`~monitor.errors.StoreFault`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import psycopg

from fleet.central import (
    operators,
    sensor_reads,
    site_alerts,
    site_config,
    site_reports,
    site_series,
    site_views,
)
from fleet.central.site_refusals import Refusals, central_lacks
from monitor.alerts.rules import RuleThresholds
from monitor.alerts.vocabulary import AlertState, Severity
from monitor.assessment import VialAssessment
from monitor.audit import AuditRow, ChainCheck, verify
from monitor.errors import NotFound, StoreFault, StoreUnavailable
from monitor.glance import LocationGlance, glance_of
from monitor.locations import LocationSummary
from monitor.measured_light import NearUvDose
from monitor.model.ledger import Tail
from monitor.model.profiles import UNKNOWN_LAMP, Catalog
from monitor.model.quantities import Quantity
from monitor.model.verdict import Thresholds
from monitor.reporting import Excursion
from monitor.series import LocationSeries, PotencyPoint
from monitor.store.alerts import AlertEvent, AlertFilter, AlertRecord
from monitor.store.handovers import HandoverRecord
from monitor.store.keys import KeyNames
from monitor.store.location_light import LocationLight
from monitor.store.ports import MeasuredKappa, NewestReading
from monitor.store.sites import LocationRecord, SensorRecord
from monitor.store.tokens import TokenRecord
from monitor.store.vials import VialEvent, VialRecord

Connection = psycopg.Connection[tuple[Any, ...]]
T = TypeVar("T")


@contextmanager
def translated() -> Iterator[None]:
    """The driver's errors as the store interface's."""
    try:
        yield
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(f"central's database is unavailable: {exc}") from exc
    except psycopg.Error as exc:
        raise StoreFault(f"database error: {exc}") from exc


def _sensor(row: Sequence[Any]) -> SensorRecord:
    i, key, location_id, quantity, driver, interval, max_gap, status, detail, since, cert, due, unc = row
    return SensorRecord(
        int(i),
        str(key),
        int(location_id),
        cast(Quantity, quantity),
        str(driver),
        float(interval),
        float(max_gap),
        status,
        str(detail),
        None if since is None else since.timestamp(),
        cert,
        None if due is None else due.timestamp(),
        None if unc is None else float(unc),
    )


_SENSOR_COLUMNS = (
    "site_id, key, location_id, quantity, driver, interval_seconds, max_gap_seconds, status, status_detail,"
    " status_since, calibration_certificate, calibration_due_at, calibration_uncertainty"
)


class SiteStore(Refusals):
    """The store interface for ``site`` over one connection to central's database."""

    def __init__(self, conn: Connection, site: str, *, lacks_limits: str | None = None) -> None:
        self.conn = conn
        self.site = site
        self.lacks_limits = lacks_limits  # why the app's [rules] limits are not the site's; None: they are
        # The configuration read once per snapshot (it cannot change inside one): a page of vials asks
        # each vial's location by id, which would otherwise read the locations once per vial.
        self._held: dict[str, Any] | None = None

    def _once(self, name: str, read: Callable[[], T]) -> T:
        if self._held is None:
            return read()
        if name not in self._held:
            self._held[name] = read()
        found: T = self._held[name]
        return found

    def _rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with translated():
            return self.conn.execute(sql, (self.site, *args)).fetchall()

    # Transactions
    @contextmanager
    def snapshot(self) -> Iterator[None]:
        outermost = self._held is None
        with translated(), self.conn.transaction():
            if outermost:
                self._held = {}
            try:
                yield
            finally:
                if outermost:
                    self._held = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # Nothing is written here: every write of the interface refuses (site_refusals), inside this block.
        yield

    # Alerts
    def latest_alert_seq(self) -> int:
        with translated():
            return site_alerts.latest_seq(self.conn, self.site)

    def alerts_changed_since(self, cursor: int, where: AlertFilter, limit: int) -> list[AlertRecord]:
        with translated():
            ids = site_alerts.key_names(self.conn, self.site)
            return site_alerts.changed_since(self.conn, self.site, cursor, where, limit, ids)

    def alert(self, alert_id: int) -> AlertRecord:
        with translated():
            return site_alerts.alert(self.conn, self.site, alert_id, self.key_names())

    def alert_events(self, alert_id: int) -> list[AlertEvent]:
        with translated():
            return site_alerts.events(self.conn, self.site, alert_id)

    def alert_counts(self) -> dict[tuple[AlertState, Severity], int]:
        with translated():
            return site_alerts.counts(self.conn, self.site)

    def key_names(self) -> KeyNames:
        with translated():
            return site_alerts.key_names(self.conn, self.site)

    # Audit: the site's chain as central mirrors it, verified here with the site's own code
    def _audit(self, after_id: int, limit: int | None) -> list[AuditRow]:
        rows = self._rows(
            "SELECT record FROM site_records WHERE site = %s AND kind = 'audit'"
            " AND (record->>'id')::int8 > %s ORDER BY (record->>'id')::int8 LIMIT %s",
            after_id,
            limit,
        )
        fields = ("id", "ts", "actor", "action", "subject", "detail", "prev_hash", "hash")
        return [AuditRow(*(r[0][f] for f in fields)) for r in rows]

    def audit_entries(self, after_id: int, limit: int) -> list[AuditRow]:
        return self._audit(after_id, limit)

    def check_audit(self) -> ChainCheck:
        rows = self._audit(0, None)
        found = verify(rows, rows[-1].id if rows else 0)
        refused = self._rows("SELECT problem FROM audit_heads WHERE site = %s AND problem IS NOT NULL")
        return ChainCheck(found.rows, found.head_hash, found.problems + tuple(str(p) for (p,) in refused))

    # The system's own state: central's clock is its own (token expiry reads the real time there)
    def real_high_water(self) -> float | None:
        return None

    # Tokens: central's operators'
    def authenticate_token(self, text: str, now: float) -> TokenRecord | None:
        with translated():
            found = operators.authenticate(self.conn, text, now)
        if found is None:
            return None
        # id: the site's token table has one; an operator token is named by token_id alone.
        return TokenRecord(
            0, found.token_id, found.name, found.scope, found.created_ts, found.revoked_ts, found.expires_ts
        )

    # Locations and sensors
    def locations(self) -> list[LocationRecord]:
        return self._once("locations", self._locations)

    def _locations(self) -> list[LocationRecord]:
        return [
            LocationRecord(int(i), str(k), str(n), str(kind))
            for i, k, n, kind in self._rows(
                "SELECT site_id, key, name, kind FROM site_locations WHERE site = %s ORDER BY site_id"
            )
        ]

    def location(self, key: str) -> LocationRecord:
        found = next((loc for loc in self.locations() if loc.key == key), None)
        if found is None:
            raise NotFound(f"no location with key {key!r}")
        return found

    def location_by_id(self, location_id: int) -> LocationRecord:
        found = next((loc for loc in self.locations() if loc.id == location_id), None)
        if found is None:
            raise NotFound(f"no location with id {location_id}")
        return found

    def location_light(self, location_id: int) -> LocationLight:
        rows = self._rows(
            "SELECT lamp, worst_case_lux FROM site_locations WHERE site = %s AND site_id = %s", location_id
        )
        if not rows:
            raise NotFound(f"no location with id {location_id}")
        lamp, worst = rows[0]
        return LocationLight(lamp or UNKNOWN_LAMP, lamp is not None, None if worst is None else float(worst))

    def sensors(self) -> list[SensorRecord]:
        return self._once("sensors", self._sensors)

    def _sensors(self) -> list[SensorRecord]:
        return [
            _sensor(r)
            for r in self._rows(
                f"SELECT {_SENSOR_COLUMNS} FROM site_sensors WHERE site = %s ORDER BY site_id"
            )
        ]

    def primary_sensor(self, location_id: int, quantity: Quantity) -> SensorRecord | None:
        return next(
            (s for s in self.sensors() if s.location_id == location_id and s.quantity == quantity), None
        )

    def newest_reading(self, sensor: SensorRecord) -> NewestReading | None:
        with translated():
            ends = sensor_reads.ends(self.conn, self.site, sensor.quantity, [sensor.key])
        newest = ends[sensor.key].newest
        return None if newest is None else NewestReading(*newest)

    def ledger_tail(self, sensor: SensorRecord) -> Tail | None:
        table, cum = (
            ("light_readings", "cum_lux_hours")
            if sensor.quantity == "light"
            else ("temperature_readings", "cum_equivalent_hours")
        )
        rows = self._rows(
            f"SELECT extract(epoch FROM ts), {cum} FROM {table}"  # names above
            " WHERE site = %s AND sensor = %s ORDER BY ts DESC LIMIT 1",
            sensor.key,
        )
        if not rows or rows[0][1] is None:
            return None
        # The rate at the tail is the ingest's business; the interface's readers take the point.
        return Tail(float(rows[0][0]), 0.0, float(rows[0][1]))

    def sensor_flags(self, location_id: int) -> list[tuple[str, bool, bool]]:
        """The location's sensors that gave spectral or near-UV readings: (key, spectral, near_uv)."""
        return [
            (str(k), bool(s), bool(u))
            for k, s, u in self._rows(
                "SELECT key, spectral, near_uv FROM site_sensors WHERE site = %s AND location_id = %s"
                " AND (spectral OR near_uv) ORDER BY site_id",
                location_id,
            )
        ]

    # Spectral: central holds which sensors measure the spectrum, not their ledgers
    def spectral_sensor(self, location_id: int, *, near_uv: bool = False) -> SensorRecord | None:
        keys = [k for k, spectral, uv in self.sensor_flags(location_id) if (uv if near_uv else spectral)]
        return next((s for s in self.sensors() if keys and s.key == keys[0]), None)

    def measured_kappa(self, catalog: Catalog, location_id: int) -> MeasuredKappa | None:
        if self.sensor_flags(location_id):
            central_lacks(self.site, "measured κ_s", "spectral and UV ledgers stay at the site")
        return None

    def near_uv_dose(self, location_id: int) -> NearUvDose | None:
        if any(uv for _, _, uv in self.sensor_flags(location_id)):
            central_lacks(self.site, "near-UV dose", "the UV sensor's ledger stays at the site")
        return None

    # Vials
    def vials(self, *, active_only: bool = False) -> list[VialRecord]:
        found = self._once("vials", self._vials)
        return [v for v in found if v.status == "active"] if active_only else found

    def _vials(self) -> list[VialRecord]:
        with translated():
            return site_config.vials(self.conn, self.site)

    def vial(self, vial_id: int) -> VialRecord:
        found = next((v for v in self.vials() if v.id == vial_id), None)
        if found is None:
            raise NotFound(f"no vial with id {vial_id}")
        return found

    def vial_by_key(self, key: str) -> VialRecord | None:
        return next((v for v in self.vials() if v.key == key), None)

    def vial_events(self, vial_id: int) -> list[VialEvent]:
        vial = self.vial(vial_id)
        by_key = {loc.key: loc.id for loc in self.locations()}
        return [
            VialEvent(
                int(r["id"]),
                vial_id,
                float(r["ts"]),
                r["kind"],
                None if r.get("location") is None else by_key.get(r["location"]),
                r.get("packaging"),
                str(r.get("detail") or ""),
                float(r["recorded_ts"]),
            )
            for (r,) in self._rows(
                "SELECT record FROM site_records WHERE site = %s AND kind = 'vial-event'"
                " AND record->>'vial' = %s ORDER BY (record->>'ts')::float8, (record->>'id')::int8",
                vial.key,
            )
        ]

    def vial_handovers(self, vial_ids: Sequence[int]) -> dict[int, list[HandoverRecord]]:
        ids = {v.key: v.id for v in self.vials() if v.id in set(vial_ids)}
        out: dict[int, list[HandoverRecord]] = {}
        for (r,) in self._rows(
            "SELECT record FROM site_records WHERE site = %s AND kind = 'vial-handover'"
            " AND record->>'vial' = ANY(%s) ORDER BY (record->>'ts')::float8, (record->>'id')::int8",
            list(ids),
        ):
            vial_id = ids[r["vial"]]
            out.setdefault(vial_id, []).append(
                HandoverRecord(
                    int(r["id"]),
                    vial_id,
                    int(r["event_id"]),
                    r["direction"],
                    float(r["ts"]),
                    str(r["peer_site"]),
                    dict(r["document"]),
                    str(r["checksum"]),
                )
            )
        return out

    # The views central computes: a vial's potency and verdict, a location's conditions
    def assess(
        self, catalog: Catalog, vial: VialRecord, thresholds: Thresholds, now: float
    ) -> VialAssessment:
        return self.assess_all(catalog, [vial], thresholds, now)[0]

    def assess_all(
        self, catalog: Catalog, vials: Iterable[VialRecord], thresholds: Thresholds, now: float
    ) -> list[VialAssessment]:
        with translated():
            return site_views.assess_all(self.conn, self.site, catalog, list(vials), thresholds, now)

    def potency_curve(
        self, catalog: Catalog, vial: VialRecord, points: int, *, with_events: bool = True
    ) -> tuple[PotencyPoint, ...]:
        with translated():
            return site_views.potency_curve(
                self.conn, self.site, catalog, vial, points, with_events=with_events
            )

    def location_summary(self, location: LocationRecord) -> LocationSummary:
        """Lux, temperature, cumulative dose and mean kinetic temperature now, as the site sums them."""
        light = self.primary_sensor(location.id, "light")
        temperature = self.primary_sensor(location.id, "temperature")
        lux_now = None if light is None else self.newest_reading(light)
        heat_now = None if temperature is None else self.newest_reading(temperature)
        tail = None if light is None else self.ledger_tail(light)
        return LocationSummary(
            location=location,
            as_of=max((x.ts for x in (lux_now, heat_now) if x is not None), default=None),
            lux=None if lux_now is None else lux_now.value,
            lux_saturated=False if lux_now is None else lux_now.saturated,
            celsius=None if heat_now is None else heat_now.value,
            cumulative_lux_hours=0.0 if tail is None else tail.cumulative,
            mean_kinetic_temperature_celsius=None
            if temperature is None or heat_now is None
            else self._mean_kinetic_temperature(temperature, heat_now.ts),
        )

    def _mean_kinetic_temperature(self, sensor: SensorRecord, end: float) -> float | None:
        with translated():
            return site_views.mean_kinetic_temperature(self.conn, self.site, sensor, end)

    # The views that read the site's alert limits: with the site's own, or refused (site_refusals)
    def location_glance(
        self, location: LocationRecord, *, now: float, day_start: float, light_lux: float
    ) -> LocationGlance:
        self._limits("dashboard (door openings, limits)")
        light = self.primary_sensor(location.id, "light")
        with translated():
            openings = site_reports.light_episodes(self.conn, self.site, light, day_start, now, light_lux)
        return glance_of(self.location_summary(location), openings, day_start=day_start, light_lux=light_lux)

    def excursions(
        self, start: float, end: float, rules: RuleThresholds, location: LocationRecord | None
    ) -> list[Excursion]:
        self._limits("excursion report")
        where = self.locations() if location is None else [location]
        with translated():
            return site_reports.excursions(
                self.conn, self.site, where, self.primary_sensor, start, end, rules
            )

    def location_series(
        self, location: LocationRecord, start: float, end: float, buckets: int
    ) -> LocationSeries:
        light = self.primary_sensor(location.id, "light")
        temperature = self.primary_sensor(location.id, "temperature")
        with translated():
            return site_series.location_series(
                self.conn, self.site, location, light, temperature, start, end, buckets
            )
