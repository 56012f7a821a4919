"""A site's slow-changing facts, looked up once per evaluation pass instead of once per vial segment.

Each location's primary light and temperature sensors, its lamp and its worst-case lux change only when
the configuration is synced at start; evaluating a thousand vials every batch would otherwise ask the
database for them tens of thousands of times.
"""

from __future__ import annotations

import sqlite3

from monitor.model.quantities import Quantity
from monitor.store import location_light, sites, spectral
from monitor.store.location_light import LocationLight
from monitor.store.sites import SensorRecord


class SiteView:
    """Memoised lookups on one connection, for one pass (a batch's rules, one API request)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._sensors: dict[tuple[int, Quantity], SensorRecord | None] = {}
        self._light: dict[int, LocationLight] = {}
        self._spectral: dict[tuple[int, bool], SensorRecord | None] = {}

    def sensor(self, location_id: int, quantity: Quantity) -> SensorRecord | None:
        key = (location_id, quantity)
        if key not in self._sensors:
            self._sensors[key] = sites.primary_sensor(self.conn, location_id, quantity)
        return self._sensors[key]

    def light(self, location_id: int) -> LocationLight:
        if location_id not in self._light:
            self._light[location_id] = location_light.of(self.conn, location_id)
        return self._light[location_id]

    def spectral_sensor(self, location_id: int, *, near_uv: bool = False) -> SensorRecord | None:
        """The location's spectral sensor (κ_s), or with ``near_uv`` its UV sensor; ``None`` if none."""
        key = (location_id, near_uv)
        if key not in self._spectral:
            self._spectral[key] = spectral.spectral_sensor(self.conn, location_id, near_uv=near_uv)
        return self._spectral[key]
