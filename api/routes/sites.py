"""Locations (current conditions, MKT, cumulative dose) and sensors (last reading, status)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Conn
from api.schemas import Location, Sensor, iso
from monitor.locations import summarise
from monitor.store import readings, sites
from monitor.store.database import snapshot

router = APIRouter(prefix="/api/v1", tags=["sites"])


@router.get("/locations", response_model=list[Location])
def list_locations(conn: Conn) -> list[Location]:
    out: list[Location] = []
    with snapshot(conn):
        for loc in sites.list_locations(conn):
            s = summarise(conn, loc)
            out.append(
                Location(
                    key=loc.key,
                    name=loc.name,
                    kind=loc.kind,
                    as_of=iso(s.as_of),
                    lux=s.lux,
                    lux_saturated=s.lux_saturated,
                    celsius=s.celsius,
                    cumulative_lux_hours=s.cumulative_lux_hours,
                    mean_kinetic_temperature_celsius=s.mean_kinetic_temperature_celsius,
                )
            )
    return out


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
