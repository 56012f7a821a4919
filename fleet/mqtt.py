"""A paho-mqtt 2.x client for the fleet: MQTT 3.1.1, a last will, optional credentials and TLS.

Both the uplink and central talk through one of these; paho's own network thread (``loop_start``) keeps
the connection and reconnects with backoff, and the callbacks hand events to the owner's queue.
"""

from __future__ import annotations

import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.protocol import OFFLINE

KEEPALIVE_SECONDS = 30


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool

    @classmethod
    def from_url(cls, url: str) -> BrokerAddress:
        """``mqtt://host[:port]`` or ``mqtts://host[:port]`` (TLS, port 8883 by default)."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"{url!r}: expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
        default = 8883 if parts.scheme == "mqtts" else 1883
        return cls(parts.hostname, parts.port or default, parts.scheme == "mqtts")


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


def make_client(
    client_id: str, will_topic: str, credentials: Credentials, address: BrokerAddress
) -> mqtt.Client:
    """A client whose broker publishes ``offline`` (retained) on ``will_topic`` if the connection drops."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.will_set(will_topic, OFFLINE, qos=1, retain=True)
    client.reconnect_delay_set(1, 30)
    # Enough unacknowledged QoS 1 messages for a window of batches and the acknowledgements.
    client.max_inflight_messages_set(100)
    if credentials.username is not None:
        password = None
        if credentials.password_file is not None:
            password = credentials.password_file.read_text(encoding="utf-8").strip()
        client.username_pw_set(credentials.username, password)
    if address.tls:
        client.tls_set(
            ca_certs=None if credentials.ca_file is None else str(credentials.ca_file),
            certfile=None if credentials.cert_file is None else str(credentials.cert_file),
            keyfile=None if credentials.key_file is None else str(credentials.key_file),
            cert_reqs=ssl.CERT_REQUIRED,
        )
    return client
