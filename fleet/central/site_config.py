"""A site's configuration as central holds it (central migration 3, :mod:`fleet.central.config_ingest`):
its locations with their sensors in the site's order of declaration, and its vials, as the model's
loader (:mod:`fleet.central.model_inputs`) reads them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from monitor.model.quantities import Quantity
from monitor.store.sites import SensorRecord
from monitor.store.vials import VialRecord

Connection = psycopg.Connection[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class SiteSensor:
    site_id: int
    key: str
    location_id: int
    quantity: Quantity
    interval_seconds: float
    max_gap_seconds: float
    calibration_uncertainty: float | None
    spectral: bool  # has given spectral or near-UV readings: its κ_s is measured, at the site only


def as_site_sensor(sensor: SensorRecord) -> SiteSensor:
    """The store interface's record of a sensor as central's readers ask for it
    (:func:`fleet.central.sensor_reads.ledgers`)."""
    return SiteSensor(
        sensor.id,
        sensor.key,
        sensor.location_id,
        sensor.quantity,
        sensor.interval_seconds,
        sensor.max_gap_seconds,
        sensor.calibration_uncertainty,
        False,  # what the readers ask of it does not depend on whether its κ_s is measured
    )


@dataclass(frozen=True, slots=True)
class SiteLocation:
    site_id: int
    key: str
    lamp: str | None
    worst_case_lux: float | None
    sensors: tuple[SiteSensor, ...]  # in the site's order of declaration

    def primary(self, quantity: Quantity) -> SiteSensor | None:
        """The location's ledger for ``quantity``: its first sensor declared, as at the site."""
        return next((s for s in self.sensors if s.quantity == quantity), None)


def locations(conn: Connection, site: str) -> dict[int, SiteLocation]:
    """The site's locations with their sensors, by the site's location id."""
    return locations_of(conn, [site])[site]


def locations_of(conn: Connection, sites: Sequence[str]) -> dict[str, dict[int, SiteLocation]]:
    """Each of ``sites``' locations with their sensors, by site and the site's location id: two statements
    for any number of sites."""
    sensors: dict[tuple[str, int], list[SiteSensor]] = {}
    for site, *row in conn.execute(
        "SELECT site, site_id, key, location_id, quantity, interval_seconds, max_gap_seconds,"
        " calibration_uncertainty, spectral OR near_uv FROM site_sensors WHERE site = ANY(%s)"
        " ORDER BY site, site_id",
        (list(sites),),
    ).fetchall():
        sensors.setdefault((site, int(row[2])), []).append(SiteSensor(*row))
    out: dict[str, dict[int, SiteLocation]] = {site: {} for site in sites}
    for site, i, key, lamp, worst in conn.execute(
        "SELECT site, site_id, key, lamp, worst_case_lux FROM site_locations WHERE site = ANY(%s)"
        " ORDER BY site, site_id",
        (list(sites),),
    ).fetchall():
        out[site][int(i)] = SiteLocation(int(i), key, lamp, worst, tuple(sensors.get((site, int(i)), ())))
    return out


def vials(conn: Connection, site: str) -> list[VialRecord]:
    """The site's vials in the site's order (its ids)."""
    return vials_of(conn, [site])[site]


def vials_of(conn: Connection, sites: Sequence[str]) -> dict[str, list[VialRecord]]:
    """Each of ``sites``' vials in the site's order (its ids), by site: one statement for any number."""
    out: dict[str, list[VialRecord]] = {site: [] for site in sites}
    for site, i, key, drug, form, lot, expiry, f0, registered, status in conn.execute(
        "SELECT site, site_id, key, drug, form, lot, expiry, initial_potency_percent, registered_ts, status"
        " FROM site_vials WHERE site = ANY(%s) ORDER BY site, site_id",
        (list(sites),),
    ).fetchall():
        out[site].append(
            VialRecord(int(i), key, drug, form, lot, expiry, float(f0), float(registered), status)
        )
    return out
