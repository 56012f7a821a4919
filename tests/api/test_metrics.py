"""GET /metrics: readings ingested and rejected, alerts by state, bridge lag, webhook backlog."""

from __future__ import annotations

import time

from prometheus_client.parser import text_string_to_metric_families

from monitor.profiles import Catalog
from monitor.store import health, sites
from monitor.store.database import transaction
from tests.api.conftest import Served
from tests.api.test_api import feed_light


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_read_the_store(served: Served, catalog: Catalog) -> None:
    """The figures come from the database the bridge writes, in Prometheus text format."""
    feed_light(served, catalog, 120, 800.0)  # a light alert fires
    conn = served.database.connect()
    with transaction(conn):
        health.write(
            conn, health.Heartbeat(pid=1, real_ts=time.time() - 5.0, sim_ts=0.0, readings_total=1234)
        )
        sensor = sites.sensor_by_key(conn, "fridge-1-lux")
        for _ in range(3):
            sites.record_fault(conn, sensor.id, 0.0, "crc", "Invalid CRC calculated")
    conn.close()
    r = served.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    samples = _samples(r.text)
    assert samples[("vialguard_readings_ingested_total", ())] == 1234
    assert samples[("vialguard_readings_rejected_total", (("kind", "crc"), ("sensor", "fridge-1-lux")))] == 3
    firing = sum(
        v
        for (name, labels), v in samples.items()
        if name == "vialguard_alerts" and ("state", "firing") in labels
    )
    assert firing >= 1
    assert samples[("vialguard_alerts", (("severity", "critical"), ("state", "pending")))] == 0
    assert 5.0 <= samples[("vialguard_bridge_lag_seconds", ())] < 60.0
    assert samples[("vialguard_webhook_outbox_changes", ())] == 0


def test_metrics_before_the_bridge_ever_ran(served: Served) -> None:
    """No heartbeat yet: zero readings and no lag figure, not an error."""
    samples = _samples(served.client.get("/metrics").text)
    assert samples[("vialguard_readings_ingested_total", ())] == 0
    assert ("vialguard_bridge_lag_seconds", ()) not in samples
