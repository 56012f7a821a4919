"""The records of one site as central holds them, read through the store interface's shapes: its
locations, sensors and vials from the config mirror (``site_locations``, ``site_sensors``,
``site_vials``) with the site's own ids, the sensors' newest readings and ledgers, a vial's events and
hand-overs from the site's records. The base of :class:`fleet.central.site_store.SiteStore`; what is
computed from them is :class:`fleet.central.site_store_views.SiteViews`'.

A session is one autocommit connection: each call sees the newest committed state; :meth:`snapshot` is one
``REPEATABLE READ`` read-only transaction, inside which the configuration is read once. The driver's
errors leave as :class:`~monitor.errors.StoreUnavailable` (the database cannot be reached) or
:class:`~monitor.errors.StoreFault`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import psycopg

from fleet.central import sensor_reads, site_alerts, site_config
from fleet.central.site_refusals import central_lacks
from monitor.errors import NotFound, StoreFault, StoreUnavailable
from monitor.measured_light import NearUvDose
from monitor.model.ledger import Tail
from monitor.model.profiles import UNKNOWN_LAMP, Catalog
from monitor.model.quantities import Quantity
from monitor.store.handovers import HandoverRecord
from monitor.store.keys import KeyNames
from monitor.store.location_light import LocationLight
from monitor.store.ports import MeasuredKappa, NewestReading
from monitor.store.sites import LocationRecord, SensorRecord
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


class SiteRecords:
    """The site's records over one connection to central's database."""

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

    def key_names(self) -> KeyNames:
        with translated():
            return site_alerts.key_names(self.conn, self.site)

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
