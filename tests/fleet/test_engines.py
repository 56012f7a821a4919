"""The private engines start, serve and stop: PostgreSQL answers SQL, Mosquitto relays a message."""

from __future__ import annotations

import queue

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from fleet.engines.mosquitto import PrivateMosquitto


def test_postgres_answers_on_its_loopback_port(postgres: str) -> None:
    """A fresh database on the private cluster runs a query and supports native partitioning."""
    with psycopg.connect(postgres) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    assert row is not None
    assert row[0] >= 110000


def test_mosquitto_relays_a_retained_message(broker: PrivateMosquitto) -> None:
    """A retained QoS 1 message published to the private broker reaches a later subscriber."""
    received: queue.Queue[bytes] = queue.Queue()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2)
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()
    publisher.publish("t/x", b"hello", qos=1, retain=True).wait_for_publish(10)
    publisher.loop_stop()
    publisher.disconnect()
    subscriber = mqtt.Client(CallbackAPIVersion.VERSION2)
    subscriber.on_connect = lambda c, u, f, rc, p: c.subscribe("t/#", qos=1)
    subscriber.on_message = lambda c, u, m: received.put(m.payload)
    subscriber.connect("127.0.0.1", broker.port)
    subscriber.loop_start()
    try:
        assert received.get(timeout=10) == b"hello"
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
