"""Locations (current conditions, MKT, cumulative dose) and sensors (last reading, status)."""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter

from api.deps import Conn, State
from api.schemas import Location, ModelParameter, Sensor, iso
from monitor.locations import LocationSummary, summarise
from monitor.profiles import Catalog
from monitor.store import location_light, readings, sites
from monitor.store.database import snapshot

router = APIRouter(prefix="/api/v1", tags=["sites"])


def location_schema(conn: sqlite3.Connection, catalog: Catalog, s: LocationSummary) -> Location:
    """A location as the API shows it: conditions, dose, MKT, and the lamp with its κ_s and provenance."""
    loc = s.location
    light = location_light.of(conn, loc.id)
    kappa = catalog.lamp(light.lamp).kappa
    return Location(
        key=loc.key,
        name=loc.name,
        kind=loc.kind,
        as_of=iso(s.as_of),
        lux=s.lux,
        lux_saturated=s.lux_saturated,
        celsius=s.celsius,
        cumulative_lux_hours=s.cumulative_lux_hours,
        mean_kinetic_temperature_celsius=s.mean_kinetic_temperature_celsius,
        lamp=light.lamp,
        spectrum_factor=ModelParameter(
            name="lamp spectrum factor",
            symbol="κ_s",
            value=kappa.value,
            low=kappa.lowest,
            high=kappa.highest,
            unit="1",
            provenance=kappa.provenance,
            source=kappa.source,
        ),
        worst_case_lux=light.worst_case_lux,
    )


@router.get("/locations", response_model=list[Location])
def list_locations(conn: Conn, state: State) -> list[Location]:
    with snapshot(conn):
        locations = sites.list_locations(conn)
        return [location_schema(conn, state.catalog, summarise(conn, loc)) for loc in locations]


@router.get("/sensors", response_model=list[Sensor])
def list_sensors(conn: Conn) -> list[Sensor]:
    out: list[Sensor] = []
    with snapshot(conn):
        locations = {loc.id: loc.key for loc in sites.list_locations(conn)}
        for s in sites.list_sensors(conn):
            last = readings.latest(conn, s)
            out.append(
                Sensor(
                    key=s.key,
                    location=locations[s.location_id],
                    quantity=s.quantity,
                    driver=s.driver,
                    interval_seconds=s.interval_seconds,
                    status=s.status,
                    status_detail=s.status_detail,
                    status_since=iso(s.status_since),
                    last_reading_at=None if last is None else iso(last[0]),
                    last_value=None if last is None else last[1],
                    unit="lx" if s.quantity == "light" else "°C",
                )
            )
    return out
