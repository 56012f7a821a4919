"""``vialguard central``: subscribe to every site's batches, ingest each in one transaction, acknowledge
after the commit, serve the API.

Batches are ingested in paho's network thread, inside the message callback: paho sends the broker its
PUBACK only once the callback returns, so a central killed mid-transaction leaves the message
unacknowledged at the broker too. Whatever is lost anyway (a broker killed, PostgreSQL down) the site
sends again: central's acknowledgement, not the broker's, is what lets a site delete a row.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import uvicorn

from fleet.central.api import create_central_app
from fleet.central.ingest import Connection, ingest, set_online
from fleet.central.partitions import Partitions
from fleet.central.retention import drop_before
from fleet.central.schema import migrate
from fleet.errors import CentralUnavailable
from fleet.mqtt import BrokerAddress, Credentials, make_client
from fleet.protocol import (
    CENTRAL,
    OFFLINE,
    ONLINE,
    TOPIC_ROOT,
    ProtocolError,
    ack_topic,
    decode_batch,
    encode_ack,
    site_of,
    status_topic,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5
RETENTION_CHECK_SECONDS = 3600.0
DAY_SECONDS = 86400.0


def redacted(url: str) -> str:
    """A database URL fit for a log: any password replaced."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class Ingester:
    """Owns central's ingest connection to PostgreSQL: reconnects after a failure, logs the edges.

    With ``keep_days``, it also drops the readings' partitions older than that, at most once every
    ``RETENTION_CHECK_SECONDS``, between two messages: on the ingest connection and thread, so the
    partitions it remembers are never ones a drop removed behind its back."""

    def __init__(
        self, database_url: str, clock: Callable[[], float] = time.time, keep_days: float | None = None
    ) -> None:
        self.database_url = database_url
        self.clock = clock
        self.keep_days = keep_days
        self.next_retention = -float("inf")
        self.conn: Connection | None = None
        self.partitions = Partitions()
        self.down = False

    def retain(self) -> None:
        """Drop what is older than ``keep_days``, if a pass is due."""
        now = self.clock()
        if self.keep_days is None or now < self.next_retention:
            return
        dropped = drop_before(self._connection(), now - self.keep_days * DAY_SECONDS)
        self.partitions.forget()
        self.next_retention = now + RETENTION_CHECK_SECONDS
        for d in dropped:
            log.info("retention: dropped %s (%d readings)", d.partition, d.readings)

    def _connection(self) -> Connection:
        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(self.database_url, connect_timeout=CONNECT_TIMEOUT_SECONDS)
            self.partitions.forget()
        return self.conn

    def migrate(self) -> None:
        try:
            migrate(self._connection())
        except psycopg.Error as exc:
            raise CentralUnavailable(f"central's database {self._where()}: {exc}") from exc

    def _where(self) -> str:
        return (
            psycopg.conninfo.make_conninfo(self.database_url, password="***")
            if "password" in (self.database_url)
            else self.database_url
        )

    def on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            site = site_of(message.topic)
        except ProtocolError:
            return
        try:
            if message.topic == status_topic(site):
                if site != CENTRAL and message.payload in (ONLINE, OFFLINE):
                    set_online(self._connection(), site, message.payload == ONLINE, self.clock())
                return
            self.retain()
            batch = decode_batch(bytes(message.payload), site)
            done = ingest(self._connection(), self.partitions, batch, self.clock())
        except ProtocolError as exc:
            log.warning("ignored a message on %s: %s", message.topic, exc)
            return
        except psycopg.Error as exc:
            # The batch is dropped unacknowledged; its site sends it again. Reconnect on the next one.
            if not self.down:
                log.error(  # noqa: TRY400  # a lost connection: its traceback says nothing more
                    "central's database failed (batches wait at their sites): %s", exc
                )
            self.down = True
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            return
        if self.down:
            log.info("central's database is back")
            self.down = False
        client.publish(ack_topic(site), encode_ack(done.ack), qos=1, retain=True)


def run_central(
    database_url: str,
    mqtt_url: str,
    host: str,
    port: int,
    credentials: Credentials | None = None,
    ready: Callable[[], None] | None = None,
    keep_days: float | None = None,
) -> None:
    """Migrate, subscribe, serve until SIGINT or SIGTERM (uvicorn's own handlers end the serve)."""
    ingester = Ingester(database_url, keep_days=keep_days)
    ingester.migrate()
    address = BrokerAddress.from_url(mqtt_url)
    client = make_client("vialguard-central", status_topic(CENTRAL), credentials or Credentials(), address)
    connected = threading.Event()

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        c.subscribe(f"{TOPIC_ROOT}/+/batch", qos=1)
        c.subscribe(f"{TOPIC_ROOT}/+/status", qos=1)
        c.publish(status_topic(CENTRAL), ONLINE, qos=1, retain=True)
        if not connected.is_set():
            log.info("central connected to the broker %s", mqtt_url)
        connected.set()

    client.on_connect = on_connect
    client.on_message = ingester.on_message
    client.connect_async(address.host, address.port, keepalive=30)
    client.loop_start()
    server = uvicorn.Server(
        uvicorn.Config(create_central_app(database_url), host=host, port=port, log_level="warning")
    )
    log.info("central serving http://%s:%d/api/v1/sites", host, port)
    if ready is not None:
        ready()
    try:
        server.run()
    finally:
        client.publish(status_topic(CENTRAL), OFFLINE, qos=1, retain=True).wait_for_publish(2.0)
        client.disconnect()
        client.loop_stop()
