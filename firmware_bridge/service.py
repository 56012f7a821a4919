"""The sensor-bridge process: open the store, build the sensors, run the acquisition loop until stopped."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

from firmware_bridge.acquisition import AcquisitionLoop, AcquisitionSettings, BatchSource, SampleTime
from firmware_bridge.sensors import build_fridge, build_real_sensors, build_simulated_sensors
from firmware_bridge.serial_source import SerialSource
from hardware.clock import Clock
from hardware.errors import HardwareError
from hardware.sd_notify import SystemdNotify
from hardware.timesync import ManualTimeSync, TimeSync, system_time_sync
from monitor.alerts.rules import default_rules
from monitor.config import Settings
from monitor.config_audit import record_config
from monitor.engine import Engine
from monitor.errors import StoreError
from monitor.model.profiles import load_catalog
from monitor.outages import iso, start_run, stop_run
from monitor.site_sync import sync_site
from monitor.storage_health import check_soundness
from monitor.store import Database
from monitor.store import webhooks as webhook_store
from monitor.store.bridge_lock import BridgeLock
from monitor.store.database import transaction
from monitor.store.retention import downsample
from monitor.store.spool import Spool, read_spool

log = logging.getLogger(__name__)

RETENTION_EVERY_SECONDS = 3600.0


def run_bridge(
    settings: Settings,
    clock: Clock,
    stop: threading.Event,
    *,
    simulate: bool,
    notify: SystemdNotify | None = None,
) -> None:
    """Run until ``stop`` is set, then flush and return; :class:`DatabaseBusy` at once if another bridge
    holds the database.

    ``notify``: systemd's notification socket (default: as the environment gives it); ``READY=1`` once
    the loop is about to take its first readings, watchdog pings from the loop, ``STOPPING=1`` on the way
    out."""
    notify = SystemdNotify.from_environment() if notify is None else notify
    with BridgeLock(settings.db_path):  # before anything is written: one bridge per database
        _run_locked(settings, clock, stop, simulate=simulate, notify=notify)


def _run_locked(
    settings: Settings, clock: Clock, stop: threading.Event, *, simulate: bool, notify: SystemdNotify
) -> None:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    spool: Spool | None = None
    try:
        sync_site(conn, settings, clock.wall())
        with transaction(conn):
            record_config(conn, settings, clock.wall(), "system:bridge")
            # The bridge always runs, the webhook deliverer only while webhooks are configured: the bridge
            # drops endpoints taken out of the config, so their outbox stops filling with nobody to empty it.
            webhook_store.sync_endpoints(conn, [hook.url for hook in settings.webhooks])
        catalog = load_catalog(settings.drug_profiles_file)
        engine = Engine(
            conn,
            catalog,
            default_rules(settings.rules.thresholds()),
            alert_retention_seconds=settings.alerts.retention_days * 86_400.0,
            db_path=settings.db_path,
            min_free_bytes=settings.bridge.min_free_megabytes * 1e6,
        )
        sample_time = SampleTime(clock.wall())
        if simulate:
            fridge = build_fridge(settings.simulation, clock.wall())
            sensors, _ = build_simulated_sensors(settings, fridge, sample_time)
        else:
            sensors = build_real_sensors(settings)
        serial_sensors = {s.key: s.quantity for s in settings.sensors if s.driver == "serial"}
        sources: list[BatchSource] = [
            SerialSource(cfg, conn, serial_sensors, clock) for cfg in settings.bridge.serial
        ]
        bridge = settings.bridge
        replay_spool(engine, Spool.beside(settings.db_path), clock.wall())
        if bridge.commit_seconds > bridge.batch_seconds:
            spool = Spool(Spool.beside(settings.db_path))
        run_id, outage = start_run(conn, engine, os.getpid(), clock.wall())
        if outage is not None and not outage.clean:
            start, end = iso(outage.start_ts), iso(outage.end_ts)
            log.warning("the last run ended uncleanly: no data from %s to %s", start, end)
        loop = AcquisitionLoop(
            sensors,
            clock,
            engine,
            AcquisitionSettings.of(bridge, stamp_at_due_time=simulate),
            sample_time=sample_time,
            sources=sources,
            spool=spool,
            time_sync=_time_sync(simulate),
            watchdog=notify,
        )
        threading.Thread(
            target=_keep_retention,
            args=(settings.db_path, clock, bridge.raw_retention_days * 86_400.0, stop),
            name="retention",
            daemon=True,
        ).start()
        # The whole file is read: in the background, so readings start at once.
        threading.Thread(
            target=check_soundness, args=(settings.db_path, clock.wall()), name="quick-check", daemon=True
        ).start()
        log.info(
            "bridge started: %d sensors, %d serial sources, database %s",
            len(sensors),
            len(sources),
            settings.db_path,
        )
        notify.ready(f"{len(sensors)} sensors, {len(sources)} serial sources")
        try:
            loop.run(stop)
        finally:
            notify.stopping()
        if loop.unflushed:
            log.error("bridge stopped with %d readings it could not store", loop.unflushed)
        else:
            stop_run(conn, run_id, clock.wall())
            log.info("bridge stopped cleanly")
    finally:
        if spool is not None:
            spool.close()
        conn.close()
        notify.close()


def _keep_retention(db_path: Path, clock: Clock, retention_seconds: float, stop: threading.Event) -> None:
    """Aggregate readings older than the retention period, at start and then hourly, on a connection of its
    own (an hour of readings a transaction, so a commit or a stop of the bridge waits for at most one)."""
    conn = Database(db_path).connect()
    try:
        while True:
            try:
                replaced = downsample(conn, clock.wall() - retention_seconds)
            except (StoreError, sqlite3.Error):
                log.exception("could not aggregate old readings; retrying in an hour")
            else:
                if replaced:
                    log.info("aggregated %d readings older than the retention period into minutes", replaced)
            if stop.wait(RETENTION_EVERY_SECONDS):
                return
    finally:
        conn.close()


def _time_sync(simulate: bool) -> TimeSync | None:
    """timesyncd's or the kernel's word on the clock; the simulation's clock is right by construction."""
    if simulate:
        return ManualTimeSync(synchronised=True)
    try:
        sync = system_time_sync()
    except HardwareError as exc:
        log.warning("clock synchronisation cannot be checked here (%s): readings are stamped as read", exc)
        return None
    log.info("clock synchronisation as told by %s", sync)
    return sync


def replay_spool(engine: Engine, path: Path, now: float) -> None:
    """Commit what the last run spooled but never committed (it was killed, or lost power), then remove
    the spool. Readings the database already holds are dropped by the engine."""
    replay = read_spool(path)
    if replay.torn_lines:
        log.warning("spool %s: %d torn line(s) skipped (a write cut short)", path, replay.torn_lines)
    if not replay.batch.empty():
        result = engine.ingest(replay.batch, now)
        log.warning(
            "recovered %d readings (%d serial frames) from the spool %s",
            result.stored,
            len(replay.batch.frames),
            path,
        )
    path.unlink(missing_ok=True)
