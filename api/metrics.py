"""Prometheus metrics at ``GET /metrics``, read from the store when scraped.

The bridge counts and the API serves, in two processes, so the figures are read from the database at each
scrape by a collector rather than kept in this process's memory: any API process gives the same answer,
and a restart of either loses nothing.

    vialguard_readings_ingested_total                      readings the bridge has stored
    vialguard_readings_rejected_total{sensor,kind}         sensor reads refused (CRC, out of range, ...)
    vialguard_serial_input_rejected_total{port,kind}       serial input refused (noise, bad CRC, ...)
    vialguard_alerts{state,severity}                       alerts kept, by state and severity
    vialguard_bridge_lag_seconds                           since the bridge last committed a batch
    vialguard_webhook_outbox_changes                       alert changes not yet accepted by every URL
    vialguard_webhook_failures{url}                        failed attempts in a row per URL (0: healthy)
    vialguard_bridge_stale_after_seconds                   the lag past which /healthz calls it stale
    vialguard_build_info{version,python}                   1, labelled with what is running
    process_*, python_info                                 the API process (prometheus_client's collectors)

and the site's own figures (lux, temperature, dose, potency bands, sensors): :mod:`api.site_metrics`.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterator
from importlib import metadata

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from api.auth import caller
from api.deps import AppState
from api.routes.health import stale_after_seconds
from api.site_metrics import SiteCollector
from monitor.alerts.vocabulary import ALERT_STATES, SEVERITIES
from monitor.store.ports import Store
from monitor.webhooks import loggable


class StoreCollector(Collector):
    def __init__(self, state: AppState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        with self.state.session() as store, store.snapshot():
            yield from _collect(store)
        stale = GaugeMetricFamily(
            "vialguard_bridge_stale_after_seconds",
            "Bridge lag past which the bridge counts as down (as /healthz judges it).",
        )
        stale.add_metric([], stale_after_seconds(self.state.settings))
        yield stale


class BuildCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        build = InfoMetricFamily("vialguard_build", "The vialguard version and Python running this API.")
        build.add_metric([], {"version": _version(), "python": platform.python_version()})
        yield build


def _version() -> str:
    try:
        return metadata.version("vialguard")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _collect(store: Store) -> Iterator[Metric]:
    beat = store.heartbeat()
    ingested = CounterMetricFamily("vialguard_readings_ingested", "Readings the bridge has stored.")
    ingested.add_metric([], 0 if beat is None else beat.readings_total)
    yield ingested

    rejected = CounterMetricFamily(
        "vialguard_readings_rejected",
        "Sensor reads refused before storage (bad CRC, value outside the chip's range, bus errors).",
        labels=["sensor", "kind"],
    )
    for fault in store.sensor_fault_counts():
        rejected.add_metric([fault.sensor_key, fault.kind], fault.count)
    yield rejected

    serial = CounterMetricFamily(
        "vialguard_serial_input_rejected",
        "Serial input refused or set aside per port (line noise, bad CRC, duplicates, frames lost).",
        labels=["port", "kind"],
    )
    for r in store.serial_rejects():
        serial.add_metric([r.port, r.kind], r.count)  # as configured and logged by the bridge
    yield serial

    alerts = GaugeMetricFamily(
        "vialguard_alerts", "Alerts kept, by state and severity.", labels=["state", "severity"]
    )
    counts = store.alert_counts()
    for state in ALERT_STATES:
        for severity in SEVERITIES:
            alerts.add_metric([state, severity], counts.get((state, severity), 0))
    yield alerts

    if beat is not None:
        lag = GaugeMetricFamily(
            "vialguard_bridge_lag_seconds", "Seconds since the bridge last committed a batch of readings."
        )
        lag.add_metric([], max(time.time() - beat.real_ts, 0.0))
        yield lag

    outbox = GaugeMetricFamily(
        "vialguard_webhook_outbox_changes", "Alert changes not yet accepted by every webhook URL."
    )
    outbox.add_metric([], store.webhook_outbox_size())
    yield outbox
    failures = GaugeMetricFamily(
        "vialguard_webhook_failures", "Failed delivery attempts in a row per webhook URL.", labels=["url"]
    )
    for endpoint in store.webhook_endpoints():
        failures.add_metric([loggable(endpoint.url)], endpoint.attempts)
    yield failures


router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(caller)],
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition (a read: open on a loopback-only server, else a read token)."""
    registry: CollectorRegistry = request.app.state.metrics
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def registry_for(state: AppState) -> CollectorRegistry:
    """A registry of this app's own (not the process-global one), so each app reads its own store."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(state))
    registry.register(SiteCollector(state))
    registry.register(BuildCollector())
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry
