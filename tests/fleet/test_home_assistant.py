"""Home Assistant's MQTT discovery from a site's uplink, read back from a real broker: one retained QoS 1
device message with every entity the schema needs, values for each, and availability from the last will."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from fleet.engines.mosquitto import PrivateMosquitto
from fleet.uplink.home_assistant import device_id
from hardware.clock import ManualClock
from monitor.config import load_settings
from monitor.model.profiles import Catalog
from monitor.store import outbox as outbox_store
from monitor.store.database import transaction
from tests.fleet.fleet_system import site_config, site_count, stop, vialguard, wait_for
from tests.monitor.test_engine import run_simulation, with_scenario

pytestmark = pytest.mark.slow

SITE = "ward-5"
HA_TABLE = "home_assistant = true\nhome_assistant_seconds = 1.0\n"
# From Home Assistant's MQTT discovery documentation (device-based discovery): the device needs its
# identifiers, the origin its name, each component its platform and a unique id; a sensor and a binary
# sensor need a state topic, here the shared one.
REQUIRED_DEVICE = {"dev", "o", "cmps"}
REQUIRED_COMPONENT = {"p", "unique_id"}
REQUIRED_BY_PLATFORM = {"sensor": {"state_topic"}, "binary_sensor": {"state_topic"}}
SHARED = {"state_topic", "qos", "availability"}


class Retained:
    """Every retained message under the topics, as a fresh subscriber (Home Assistant starting) sees it."""

    def __init__(self, broker: PrivateMosquitto, topics: list[str]) -> None:
        self.messages: dict[str, mqtt.MQTTMessage] = {}
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="home-assistant-test")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe([(t, 1) for t in topics])
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self.lock:  # the first per topic: the retained one, sent on subscribing before any new one
            self.messages.setdefault(message.topic, message)

    def get(self, topic: str) -> mqtt.MQTTMessage | None:
        with self.lock:
            return self.messages.get(topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_discovery_payloads_from_the_broker(
    tmp_path: Path, broker: PrivateMosquitto, catalog: Catalog, clock: ManualClock
) -> None:
    """The site is one device: per location lux, temperature and dose, per vial potency best and low and
    hours left, a problem binary sensor per firing alert, all expiring and available while the uplink is;
    SIGKILL the uplink and the broker's last will makes them unavailable."""
    config = site_config(tmp_path, SITE, broker.url, fleet_extra=HA_TABLE)
    settings = with_scenario(
        load_settings(config), kind="door-left-open", start_after_seconds=300, duration_seconds=3600, lux=600
    )
    conn = run_simulation(settings, catalog, clock, 1800)
    with transaction(conn):
        outbox_store.enable(conn, SITE)
    conn.close()
    firing = site_count(settings.db_path, "SELECT count(*) FROM alerts WHERE state = 'firing'")
    assert firing > 0

    config_topic = f"homeassistant/device/{device_id(SITE)}/config"
    state_topic = f"vialguard/fleet/{SITE}/ha/state"
    status_topic = f"vialguard/fleet/{SITE}/status"
    uplink = vialguard("uplink", "--config", str(config), log=tmp_path / "uplink.log")
    try:
        topics = [config_topic, state_topic, status_topic]
        wait_for(lambda: len(_retained(broker, topics)) == len(topics), 60, "the retained discovery")
        retained = _retained(broker, topics)
        uplink.send_signal(signal.SIGKILL)
        uplink.wait()
        wait_for(
            lambda: _retained(broker, [status_topic])[status_topic].payload == b"offline",
            60,
            "the uplink's last will",
        )
    finally:
        stop(uplink)

    config_message, state_message, status = (retained[t] for t in topics)
    assert config_message.retain
    assert config_message.qos == 1
    assert state_message.retain
    payload = json.loads(config_message.payload)
    values = json.loads(state_message.payload)
    assert payload.keys() >= REQUIRED_DEVICE
    assert payload["dev"]["ids"] == [device_id(SITE)]
    assert payload["o"]["name"] == "vialguard"
    assert payload["state_topic"] == state_topic
    assert payload["qos"] == 1
    assert payload["availability"] == [
        {"topic": status_topic, "payload_available": "online", "payload_not_available": "offline"}
    ]
    assert status.payload == b"online"

    components = payload["cmps"]
    for name, component in components.items():
        assert re.fullmatch(r"[a-zA-Z0-9_-]+", name)
        assert component.keys() >= REQUIRED_COMPONENT, name
        inherited = component.keys() | (SHARED & payload.keys())
        assert REQUIRED_BY_PLATFORM[component["p"]] <= inherited, name
        assert component["unique_id"] == name
        assert component["expire_after"] == 3
        field = re.fullmatch(r"\{\{ value_json\.(\w+) \}\}", component["value_template"])
        assert field is not None
        assert field.group(1) in values  # every entity has its value in the state message

    by_class: dict[str, list[str]] = {}
    for name, component in components.items():
        by_class.setdefault(component.get("device_class") or component["unit_of_measurement"], []).append(
            name
        )
    assert len(by_class["illuminance"]) == len(by_class["temperature"]) == len(by_class["lx·h"]) == 1
    vials = site_count(settings.db_path, "SELECT count(*) FROM vials")
    assert len(by_class["%"]) == 2 * vials  # potency best and low
    assert len(by_class["h"]) == vials
    problems = by_class["problem"]
    assert len(problems) == firing
    assert all(components[p]["p"] == "binary_sensor" for p in problems)
    assert all(values[p] == "ON" for p in problems)
    lux = by_class["illuminance"][0]
    assert isinstance(values[lux], float)
    low = [n for n in by_class["%"] if n.endswith("_potency_low")]
    best = [n for n in by_class["%"] if n.endswith("_potency_best")]
    assert all(values[lo] <= values[lo.replace("_low", "_best")] for lo in low)
    assert len(low) == len(best) == vials


def _retained(broker: PrivateMosquitto, topics: list[str]) -> dict[str, mqtt.MQTTMessage]:
    """What a new subscriber receives at once: the broker sends retained messages on subscribing."""
    seen = Retained(broker, topics)
    try:
        time.sleep(0.5)
        with seen.lock:
            return dict(seen.messages)
    finally:
        seen.close()
