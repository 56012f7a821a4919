"""A site's slow-changing facts, looked up once per evaluation pass instead of once per vial segment.

Each location's primary light and temperature sensors, its lamp and its worst-case lux change only when
the configuration is synced at start; evaluating a thousand vials every batch would otherwise ask the
database for them tens of thousands of times.
"""

from __future__ import annotations

import sqlite3

from monitor.quantities import Quantity
from monitor.store import location_light, sites
from monitor.store.location_light import LocationLight
from monitor.store.sites import SensorRecord


class SiteView:
    """Memoised lookups on one connection, for one pass (a batch's rules, one API request)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._sensors: dict[tuple[int, Quantity], SensorRecord | None] = {}
        self._light: dict[int, LocationLight] = {}

    def sensor(self, location_id: int, quantity: Quantity) -> SensorRecord | None:
        key = (location_id, quantity)
        if key not in self._sensors:
            self._sensors[key] = sites.primary_sensor(self.conn, location_id, quantity)
        return self._sensors[key]

    def light(self, location_id: int) -> LocationLight:
        if location_id not in self._light:
            self._light[location_id] = location_light.of(self.conn, location_id)
        return self._light[location_id]
