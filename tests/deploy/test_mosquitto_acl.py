"""The sample broker ACL (deploy/mosquitto/vialguard.acl) on a real Mosquitto: each site's user reaches
its own topics only, central reaches them all, and an anonymous client is refused."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from fleet.engines.mosquitto import PrivateMosquitto

ACL = Path(__file__).parents[2] / "deploy" / "mosquitto" / "vialguard.acl"
USERS = ("north", "south", "central")


class Client:
    """A connected paho client that records what it receives."""

    def __init__(self, broker: PrivateMosquitto, user: str | None) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.refused: str | None = None
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"acl-{user}")
        if user is not None:
            self.client.username_pw_set(user, f"{user}-password")
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, m: self.received.append((m.topic, bytes(m.payload)))
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self.connected.wait(10)

    def _on_connect(self, c: mqtt.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        if reason.is_failure:
            self.refused = str(reason)
        self.connected.set()

    def subscribe(self, *topics: str) -> None:
        self.subscribed.clear()
        self.client.subscribe([(t, 1) for t in topics])
        assert self.subscribed.wait(10)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def secured(tmp_path: Path) -> PrivateMosquitto:
    passwords = tmp_path / "passwd"
    for i, user in enumerate(USERS):
        create = ["-c"] if i == 0 else []
        subprocess.run(
            ["mosquitto_passwd", *create, "-b", str(passwords), user, f"{user}-password"], check=True
        )
    return PrivateMosquitto(tmp_path / "mosquitto", password_file=passwords, acl_file=ACL)


def test_each_site_reaches_only_its_own_topics(secured: PrivateMosquitto) -> None:
    """North receives its own acknowledgements, never south's; its batch on south's topic never reaches
    central; its own does."""
    secured.start()
    central, north = Client(secured, "central"), Client(secured, "north")
    try:
        central.subscribe("vialguard/fleet/+/batch")
        north.subscribe("vialguard/fleet/north/ack", "vialguard/fleet/south/ack", "vialguard/fleet/#")
        central.publish("vialguard/fleet/south/ack", b"south's")
        central.publish("vialguard/fleet/north/ack", b"north's")
        north.publish("vialguard/fleet/south/batch", b"posing as south")
        north.publish("vialguard/fleet/north/batch", b"north's batch")
        deadline = time.monotonic() + 10
        while (not north.received or not central.received) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # anything the ACL let through by mistake arrives by now
    finally:
        central.close()
        north.close()
        secured.stop()
    assert north.received == [("vialguard/fleet/north/ack", b"north's")]
    assert central.received == [("vialguard/fleet/north/batch", b"north's batch")]


def test_each_site_takes_only_its_own_commands(secured: PrivateMosquitto) -> None:
    """North receives central's commands for north, never south's; its result on south's topic never
    reaches central; its own does."""
    secured.start()
    central, north = Client(secured, "central"), Client(secured, "north")
    try:
        central.subscribe("vialguard/fleet/+/results")
        north.subscribe("vialguard/fleet/north/commands", "vialguard/fleet/south/commands")
        central.publish("vialguard/fleet/south/commands", b"south's")
        central.publish("vialguard/fleet/north/commands", b"north's")
        north.publish("vialguard/fleet/south/results", b"posing as south")
        north.publish("vialguard/fleet/north/results", b"north's result")
        deadline = time.monotonic() + 10
        while (not north.received or not central.received) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # anything the ACL let through by mistake arrives by now
    finally:
        central.close()
        north.close()
        secured.stop()
    assert north.received == [("vialguard/fleet/north/commands", b"north's")]
    assert central.received == [("vialguard/fleet/north/results", b"north's result")]


def test_an_anonymous_client_is_refused(secured: PrivateMosquitto) -> None:
    """With a password file the broker takes no anonymous client."""
    secured.start()
    try:
        anonymous = Client(secured, None)
        anonymous.close()
    finally:
        secured.stop()
    assert anonymous.refused is not None
