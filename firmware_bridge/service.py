"""The sensor-bridge process: open the store, build the sensors, run the acquisition loop until stopped."""

from __future__ import annotations

import logging
import threading

from firmware_bridge.acquisition import AcquisitionLoop, BatchSource, SampleTime
from firmware_bridge.sensors import build_fridge, build_real_sensors, build_simulated_sensors
from firmware_bridge.serial_source import SerialSource
from hardware.clock import Clock
from monitor.config import Settings
from monitor.config_audit import record_config
from monitor.engine import Engine
from monitor.profiles import load_catalog
from monitor.rules import default_rules
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store import webhooks as webhook_store
from monitor.store.database import transaction

log = logging.getLogger(__name__)


def run_bridge(settings: Settings, clock: Clock, stop: threading.Event, *, simulate: bool) -> None:
    """Run until ``stop`` is set, then flush and return."""
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
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
        loop = AcquisitionLoop(
            sensors,
            clock,
            engine,
            batch_seconds=settings.bridge.batch_seconds,
            stamp_at_due_time=simulate,
            sample_time=sample_time,
            sources=sources,
        )
        log.info(
            "bridge started: %d sensors, %d serial sources, database %s",
            len(sensors),
            len(sources),
            settings.db_path,
        )
        loop.run(stop)
        log.info("bridge stopped cleanly")
    finally:
        conn.close()
