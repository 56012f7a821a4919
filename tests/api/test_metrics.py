"""GET /metrics: readings ingested and rejected, alerts by state, bridge lag, webhook backlog."""

from __future__ import annotations

import math
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor.model.profiles import Catalog
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


def test_metrics_show_the_site_light_dose_temperature_and_each_vials_potency_band(
    served: Served, catalog: Catalog
) -> None:
    """Lux, dose and vials per location; each vial's best/low/high potency and hours left, as the API has
    them; each sensor's state; the configured thresholds; build info and the process's own figures."""
    feed_light(served, catalog, 3601, 500.0)
    samples = _samples(served.client.get("/metrics").text)
    fridge = (("location", "fridge-1"),)
    assert samples[("vialguard_location_lux", fridge)] == 500.0
    assert samples[("vialguard_location_lux_hours_total", fridge)] == pytest.approx(500.0, rel=1e-3)
    assert samples[("vialguard_location_vials", fridge)] == 4
    vials = {v["key"]: v for v in served.client.get("/api/v1/vials").json()}
    for key, vial in vials.items():

        def band(bound: str, key: str = key) -> float:
            return samples[
                (
                    "vialguard_vial_potency_percent",
                    (("bound", bound), ("location", "fridge-1"), ("vial", key)),
                )
            ]

        assert band("best") == pytest.approx(vial["potency_percent"], abs=0.05)
        assert band("low") <= band("best") <= band("high")
        where = (("location", "fridge-1"), ("vial", key))
        hours = samples[("vialguard_vial_hours_to_threshold", where)]
        left = vial["verdict"]["hours_left"]
        assert hours == (math.inf if left is None else pytest.approx(left, rel=1e-3))
        verdict = {
            word: samples[("vialguard_vial_verdict", (*where[:1], ("verdict", word), *where[1:]))]
            for word in ("use", "watch", "do-not-use")
        }
        assert verdict == {w: float(w == vial["verdict"]["verdict"]) for w in verdict}  # as the API says
    assert (
        samples[
            (
                "vialguard_vial_potency_percent",
                (("bound", "low"), ("location", "fridge-1"), ("vial", "infusion-0001")),
            )
        ]
        < 90.0
    )
    lux_sensor = (("location", "fridge-1"), ("quantity", "light"), ("sensor", "fridge-1-lux"))
    assert samples[("vialguard_sensor_up", lux_sensor)] == 1
    assert samples[("vialguard_sensor_last_reading_timestamp_seconds", lux_sensor)] == pytest.approx(
        served.clock.wall() - 1.0
    )
    rules = served.settings.rules
    assert (
        samples[("vialguard_potency_threshold_percent", (("severity", "warning"),))]
        == rules.potency_warning_percent
    )
    assert samples[("vialguard_light_threshold_lux", ())] == rules.light_lux
    assert (
        samples[("vialguard_temperature_threshold_celsius", (("bound", "high"),))]
        == rules.temperature_high_celsius
    )
    (build,) = [labels for name, labels in samples if name == "vialguard_build_info"]
    assert dict(build)["version"]
    assert samples[("process_resident_memory_bytes", ())] > 0
