"""Locations and sensors: what the configuration declares, and each sensor's current status."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from monitor.errors import NotFound
from monitor.model.quantities import Quantity

SensorStatus = Literal["unknown", "ok", "faulty", "stale"]


@dataclass(frozen=True, slots=True)
class LocationRecord:
    id: int
    key: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class SensorRecord:
    id: int
    key: str
    location_id: int
    quantity: Quantity
    driver: str
    interval_seconds: float
    max_gap_seconds: float
    status: SensorStatus
    status_detail: str
    status_since: float | None
    calibration_certificate: str | None = None
    calibration_due_ts: float | None = None
    calibration_uncertainty: float | None = None  # expanded (k = 2), in the quantity's unit


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """A sensor as declared in the configuration."""

    key: str
    location_key: str
    quantity: Quantity
    driver: str
    interval_seconds: float
    max_gap_seconds: float
    calibration_certificate: str | None = None
    calibration_due_ts: float | None = None
    calibration_uncertainty: float | None = None


def upsert_location(conn: sqlite3.Connection, key: str, name: str, kind: str) -> int:
    conn.execute(
        "INSERT INTO locations (key, name, kind) VALUES (?, ?, ?)"
        " ON CONFLICT(key) DO UPDATE SET name = excluded.name, kind = excluded.kind",
        (key, name, kind),
    )
    return int(conn.execute("SELECT id FROM locations WHERE key = ?", (key,)).fetchone()[0])


def upsert_sensor(conn: sqlite3.Connection, spec: SensorSpec) -> int:
    location = location_by_key(conn, spec.location_key)
    conn.execute(
        "INSERT INTO sensors (key, location_id, quantity, driver, interval_seconds, max_gap_seconds,"
        " calibration_certificate, calibration_due_ts, calibration_uncertainty)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(key) DO UPDATE SET location_id = excluded.location_id, quantity = excluded.quantity,"
        " driver = excluded.driver, interval_seconds = excluded.interval_seconds,"
        " max_gap_seconds = excluded.max_gap_seconds,"
        " calibration_certificate = excluded.calibration_certificate,"
        " calibration_due_ts = excluded.calibration_due_ts,"
        " calibration_uncertainty = excluded.calibration_uncertainty",
        (
            spec.key,
            location.id,
            spec.quantity,
            spec.driver,
            spec.interval_seconds,
            spec.max_gap_seconds,
            spec.calibration_certificate,
            spec.calibration_due_ts,
            spec.calibration_uncertainty,
        ),
    )
    return int(conn.execute("SELECT id FROM sensors WHERE key = ?", (spec.key,)).fetchone()[0])


def _location(row: sqlite3.Row | tuple[object, ...]) -> LocationRecord:
    id_, key, name, kind = row
    return LocationRecord(int(str(id_)), str(key), str(name), str(kind))


def list_locations(conn: sqlite3.Connection) -> list[LocationRecord]:
    rows = conn.execute("SELECT id, key, name, kind FROM locations ORDER BY id").fetchall()
    return [_location(r) for r in rows]


def location_by_key(conn: sqlite3.Connection, key: str) -> LocationRecord:
    row = conn.execute("SELECT id, key, name, kind FROM locations WHERE key = ?", (key,)).fetchone()
    if row is None:
        raise NotFound(f"no location with key {key!r}")
    return _location(row)


def location_by_id(conn: sqlite3.Connection, location_id: int) -> LocationRecord:
    row = conn.execute("SELECT id, key, name, kind FROM locations WHERE id = ?", (location_id,)).fetchone()
    if row is None:
        raise NotFound(f"no location with id {location_id}")
    return _location(row)


_SENSOR_COLUMNS = (
    "id, key, location_id, quantity, driver, interval_seconds, max_gap_seconds, status, status_detail,"
    " status_since, calibration_certificate, calibration_due_ts, calibration_uncertainty"
)


def _sensor(row: tuple[object, ...]) -> SensorRecord:
    return SensorRecord(*row)  # type: ignore[arg-type]  # columns are listed in field order above


def list_sensors(conn: sqlite3.Connection, location_id: int | None = None) -> list[SensorRecord]:
    if location_id is None:
        rows = conn.execute(f"SELECT {_SENSOR_COLUMNS} FROM sensors ORDER BY id").fetchall()
    else:
        rows = conn.execute(
            f"SELECT {_SENSOR_COLUMNS} FROM sensors WHERE location_id = ? ORDER BY id", (location_id,)
        ).fetchall()
    return [_sensor(r) for r in rows]


def sensor_by_key(conn: sqlite3.Connection, key: str) -> SensorRecord:
    row = conn.execute(f"SELECT {_SENSOR_COLUMNS} FROM sensors WHERE key = ?", (key,)).fetchone()
    if row is None:
        raise NotFound(f"no sensor with key {key!r}")
    return _sensor(row)


def primary_sensor(conn: sqlite3.Connection, location_id: int, quantity: Quantity) -> SensorRecord | None:
    """The sensor whose series is the location's ledger for ``quantity``: the first one declared."""
    row = conn.execute(
        f"SELECT {_SENSOR_COLUMNS} FROM sensors WHERE location_id = ? AND quantity = ? ORDER BY id LIMIT 1",
        (location_id, quantity),
    ).fetchone()
    return None if row is None else _sensor(row)


def set_sensor_status(
    conn: sqlite3.Connection, sensor_id: int, status: SensorStatus, detail: str, ts: float
) -> None:
    conn.execute(
        "UPDATE sensors SET status = ?, status_detail = ?, status_since = ? WHERE id = ?",
        (status, detail, ts, sensor_id),
    )


def record_fault(conn: sqlite3.Connection, sensor_id: int, ts: float, kind: str, detail: str) -> None:
    conn.execute(
        "INSERT INTO sensor_faults (sensor_id, ts, kind, detail) VALUES (?, ?, ?, ?)",
        (sensor_id, ts, kind, detail),
    )


@dataclass(frozen=True, slots=True)
class FaultCount:
    """Sensor reads refused before storage, of one kind, for one sensor."""

    sensor_key: str
    kind: str  # crc, range, bus, ...
    count: int


def fault_counts(conn: sqlite3.Connection) -> list[FaultCount]:
    """Refused reads by sensor and kind, ordered by sensor key then kind."""
    rows = conn.execute(
        "SELECT s.key, f.kind, COUNT(*) FROM sensor_faults AS f JOIN sensors AS s ON s.id = f.sensor_id"
        " GROUP BY s.key, f.kind ORDER BY s.key, f.kind"
    ).fetchall()
    return [FaultCount(str(sensor), str(kind), int(n)) for sensor, kind, n in rows]
