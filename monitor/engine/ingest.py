"""The ingest transaction: one batch of readings in, ledger, statuses, rules and alerts out, in one commit.

The bridge hands a :class:`monitor.batch.Batch` to :meth:`Engine.ingest` every couple of seconds.
Everything the batch changes commits together or not at all, so a crash never leaves readings without
their ledger or an alert half written.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor import refused_readings, storage_health, timekeeping
from monitor.alerts.rule import Observation, Rule
from monitor.batch import Batch, IngestResult
from monitor.engine.alert_writer import AlertWriter
from monitor.engine.observations import Scene
from monitor.engine.readings_writer import ReadingsWriter
from monitor.engine.screening import screen
from monitor.engine.sensor_status import SensorStatuses
from monitor.engine.vial_recheck import VialRecheck
from monitor.errors import StoreError
from monitor.model.profiles import Catalog
from monitor.site_view import SiteView
from monitor.store import alerts, health, readings, serial_links, silences, sites
from monitor.store.database import transaction
from monitor.store.sites import SensorRecord

PURGE_EVERY_SECONDS = 3600.0


class Engine:
    """Owns the write side of the store for one bridge process (the only writer of readings); the
    :class:`monitor.batch.BatchSink` the acquisition loop hands its batches to."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        catalog: Catalog,
        rules: tuple[Rule, ...],
        *,
        alert_retention_seconds: float = 90 * 86_400.0,
        db_path: Path | None = None,
        min_free_bytes: float = 0.0,
    ) -> None:
        self._conn = conn
        self._db_path = db_path  # watched for room left (a disk-nearly-full alert) when given
        self._min_free_bytes = min_free_bytes
        self._alert_retention_seconds = alert_retention_seconds
        self._purged_ts: float | None = None
        self._catalog = catalog
        sensors = {s.key: s for s in sites.list_sensors(conn)}
        self._statuses = SensorStatuses(conn, sensors)
        self._writer = ReadingsWriter(conn, sensors)
        self._alerts = AlertWriter(conn, catalog, rules)
        self._recheck = VialRecheck()
        self._locations = {loc.id: loc for loc in sites.list_locations(conn)}
        self.readings_total = sum(readings.count(conn, s) for s in sensors.values())

    def break_series(self, until_ts: float, reason: str) -> None:
        """Nothing was observed from each sensor's last stored reading until ``until_ts`` (the bridge was
        down): record that as a gap with ``reason``, however short, which the ledger never bridges (it reads
        recorded gaps back when it integrates). Runs in the caller's transaction.

        Sensors on a serial microcontroller are left out: the board kept sampling into its buffer while
        the bridge was down, and what it could not keep it announces, as frames lost, which become gaps."""
        self._writer.break_series(until_ts, reason)

    @property
    def last_reading_ts(self) -> float | None:
        """The newest reading stored, of any sensor: the last moment the bridge is known to have seen."""
        return max((ts for ts in self._writer.last_ts.values() if ts is not None), default=None)

    @property
    def sensors(self) -> dict[str, SensorRecord]:
        return dict(self._statuses.records)

    @property
    def sensor_keys(self) -> tuple[str, ...]:
        return tuple(self._statuses.records)

    def ingest(self, batch: Batch, now: float, heartbeat: health.Heartbeat | None = None) -> IngestResult:
        """Store ``batch`` and evaluate every rule as of ``now`` (the clock that stamps readings)."""
        tails, statuses = self._writer.tails(), dict(self._statuses.records)
        batch = screen(batch)
        try:
            with transaction(self._conn):
                written = self._writer.write(batch)
                serial_links.record(self._conn, batch.frames, batch.boots.values())
                if batch.serial_rejects:
                    serial_links.add_rejects(self._conn, batch.serial_rejects, now)
                self._statuses.update(batch, now, self._writer.last_ts)
                changes = self._evaluate_rules(batch, written.observed, now)
                changes += refused_readings.apply(
                    self._conn,
                    ((f.sensor_key, f.kind, f.detail) for f in batch.faults),
                    written.observed,
                    self._statuses.records,
                    now,
                )
                changes += silences.reconcile(self._conn, now)
                if batch.clock is not None:
                    changes += timekeeping.apply(self._conn, batch.clock, now)
                if self._db_path is not None:
                    changes += storage_health.apply(self._conn, self._db_path, now, self._min_free_bytes)
                self._purge_resolved_alerts(now)
                if heartbeat is not None:
                    health.write(self._conn, heartbeat)
        except sqlite3.Error as exc:
            # Nothing of the batch was committed: put the in-memory ledger tails back so a retry of the
            # same batch continues from what the database holds.
            self._writer.restore(tails)
            self._statuses.records = statuses
            raise StoreError(f"could not store a batch of {len(batch)} readings: {exc}") from exc
        self.readings_total += written.stored
        return IngestResult(written.stored, written.rejected_out_of_order, written.gaps, changes)

    def _evaluate_rules(self, batch: Batch, observed: dict[str, list[Observation]], now: float) -> int:
        vials_due = self._recheck.due(self._conn, batch, now)
        scene = Scene(
            conn=self._conn,
            catalog=self._catalog,
            batch=batch,
            observed=observed,
            now=now,
            sensors=self._statuses.records,
            last_ts=self._writer.last_ts,
            locations=self._locations,
            holding=self._recheck.holding,
            site=SiteView(self._conn),
        )
        return self._alerts.evaluate(scene, vials_due=vials_due)

    def _purge_resolved_alerts(self, now: float) -> None:
        """Resolved alerts past the retention window go, checked once an hour (and at the first batch)."""
        if self._purged_ts is not None and now - self._purged_ts < PURGE_EVERY_SECONDS:
            return
        self._purged_ts = now
        alerts.purge_resolved(self._conn, now - self._alert_retention_seconds)
