"""Each sensor's status (ok, faulty, stale) followed batch by batch, written only when it changes."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import replace

from monitor.batch import Batch, SensorFault
from monitor.store import sites
from monitor.store.sites import SensorRecord

# A sensor silent for more than this many of its intervals is stale.
STALE_INTERVALS = 3


class SensorStatuses:
    """The sensors with their status as last written; runs inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, sensors: Mapping[str, SensorRecord]) -> None:
        self._conn = conn
        self.records = dict(sensors)

    def update(self, batch: Batch, now: float, last_ts: Mapping[str, float | None]) -> None:
        """The latest outcome per sensor in ``batch`` (a reading or a fault) sets its status; a sensor
        whose last reading (``last_ts``) is older than three intervals at ``now`` becomes stale."""
        # One pass, no sort: a back-filled batch holds tens of thousands of readings. A fault at the same
        # instant as a reading wins, as the later word on the sensor.
        latest: dict[str, tuple[float, SensorFault | None]] = {}
        for readings_of_kind in (batch.light, batch.temperature):
            for reading in readings_of_kind:
                seen = latest.get(reading.sensor_key)
                if seen is None or reading.ts > seen[0]:
                    latest[reading.sensor_key] = (reading.ts, None)
        for f in batch.faults:
            seen = latest.get(f.sensor_key)
            if seen is None or f.ts >= seen[0]:
                latest[f.sensor_key] = (f.ts, f)
        for key, (ts, fault) in latest.items():
            sensor = self.records.get(key)
            if sensor is None:
                raise KeyError(f"reading for unknown sensor {key!r}")
            if fault is not None and (sensor.status != "faulty" or sensor.status_detail != fault.detail):
                sites.set_sensor_status(self._conn, sensor.id, "faulty", fault.detail, ts)
                sites.record_fault(self._conn, sensor.id, ts, fault.kind, fault.detail)
                self.records[key] = _with_status(sensor, "faulty", fault.detail, ts)
            elif fault is None and sensor.status != "ok":
                sites.set_sensor_status(self._conn, sensor.id, "ok", "", ts)
                self.records[key] = _with_status(sensor, "ok", "", ts)
        for key, sensor in self.records.items():
            last = last_ts.get(key)
            silent = last is None or now - last > STALE_INTERVALS * sensor.interval_seconds
            if silent and sensor.status == "ok":
                sites.set_sensor_status(self._conn, sensor.id, "stale", "no recent reading", now)
                self.records[key] = _with_status(sensor, "stale", "no recent reading", now)


def _with_status(sensor: SensorRecord, status: sites.SensorStatus, detail: str, ts: float) -> SensorRecord:
    return replace(sensor, status=status, status_detail=detail, status_since=ts)
