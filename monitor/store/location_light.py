"""The light at a location as the model needs it: the lamp type and the worst-case lux for unseen light."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from monitor.model.profiles import UNKNOWN_LAMP


@dataclass(frozen=True, slots=True)
class LocationLight:
    lamp: str  # a key of the catalog's lamps; "unknown" when the configuration names none
    lamp_configured: bool
    worst_case_lux: float | None  # None: bound unseen light by the highest lux recorded here


def configure(
    conn: sqlite3.Connection, location_id: int, lamp: str | None, worst_case_lux: float | None
) -> None:
    conn.execute(
        "UPDATE locations SET lamp = ?, worst_case_lux = ? WHERE id = ?", (lamp, worst_case_lux, location_id)
    )


def of(conn: sqlite3.Connection, location_id: int) -> LocationLight:
    row = conn.execute("SELECT lamp, worst_case_lux FROM locations WHERE id = ?", (location_id,)).fetchone()
    lamp = None if row is None else row[0]
    worst = None if row is None or row[1] is None else float(row[1])
    return LocationLight(str(lamp) if lamp else UNKNOWN_LAMP, lamp is not None, worst)
