"""``vialguard central``: subscribe to every site's batches, ingest them in transactions, acknowledge
after the commit, serve the API.

Paho's network thread only queues each message; one worker thread takes whatever has arrived (a group)
and ingests it in one transaction, each batch as if alone, then publishes the acknowledgements and only
then acknowledges the messages to the broker (paho's manual acknowledgement), so a central killed
mid-transaction leaves them unacknowledged at the broker too. Whatever is lost anyway (a broker killed,
PostgreSQL down) the site sends again: central's acknowledgement, not the broker's, is what lets a site
delete a row. One commit for a group rather than for each batch is what lets central keep up when
every site sends often (``bench/bench_fleet_load.py``).

The same worker stores the sites' results to central's commands; a publisher thread of its own
(:mod:`fleet.central.dispatch`) sends the queued commands, woken by the API, by a site coming online and
by central's reconnection.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import uvicorn

from fleet.central import commands, vial_relay
from fleet.central.api import create_central_app
from fleet.central.dispatch import CommandPublisher
from fleet.central.ingest import Connection, ingest_group, set_online
from fleet.central.partitions import Partitions
from fleet.central.retention import drop_before
from fleet.central.schema import migrate
from fleet.central.site_apps import SiteApi
from fleet.commands import CommandResult, decode_result, result_topic
from fleet.errors import CentralUnavailable
from fleet.mqtt import BrokerAddress, Credentials, make_client
from fleet.protocol import (
    CENTRAL,
    OFFLINE,
    ONLINE,
    TOPIC_ROOT,
    Batch,
    ProtocolError,
    ack_topic,
    decode_batch,
    encode_ack,
    site_of,
    status_topic,
)
from monitor.config.services import loopback_only

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5
RETENTION_CHECK_SECONDS = 3600.0
# Messages handled in one transaction at most; the broker's in-flight window to central (Mosquitto's
# max_inflight_messages, 20 by default) usually bounds a group first.
GROUP_MAX = 200
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
        self.inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.site_online: Callable[[str], None] = lambda site: None  # commands wait for it

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
        """Paho's network thread: queue the message for :meth:`work` (acknowledged to the broker there)."""
        self.inbox.put(message)

    def work(self, client: mqtt.Client, stop: threading.Event) -> None:
        """Take what has arrived, up to ``GROUP_MAX`` messages, handle it, then acknowledge each message to
        the broker (manual acknowledgement: only once its batch is committed, or given up)."""
        while not stop.is_set():
            try:
                group = [self.inbox.get(timeout=0.5)]
            except queue.Empty:
                continue
            while len(group) < GROUP_MAX:
                try:
                    group.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            try:
                self.handle(client, group)
            finally:
                for message in group:
                    client.ack(message.mid, message.qos)

    def handle(self, client: mqtt.Client, messages: list[mqtt.MQTTMessage]) -> None:
        """Status changes, then every batch in one transaction; the acknowledgements after its commit."""
        batches: list[Batch] = []
        statuses: list[tuple[str, bool]] = []
        results: list[CommandResult] = []
        for message in messages:
            try:
                site = site_of(message.topic)
                if message.topic == status_topic(site):
                    if site != CENTRAL and message.payload in (ONLINE, OFFLINE):
                        statuses.append((site, message.payload == ONLINE))
                    continue
                if message.topic == result_topic(site):
                    results.append(decode_result(bytes(message.payload), site))
                    continue
                batches.append(decode_batch(bytes(message.payload), site))
            except ProtocolError as exc:
                log.warning("ignored a message on %s: %s", message.topic, exc)
        try:
            for site, online in statuses:
                set_online(self._connection(), site, online, self.clock())
                if online:
                    self.site_online(site)
            relayed: list[str] = []
            if results:
                with self._connection().transaction():
                    for result in results:
                        if commands.record_result(self._connection(), result, self.clock()):
                            relayed += vial_relay.follow(self._connection(), result, self.clock())
            for site in relayed:  # a hand-over's receipt, for the receiving site
                self.site_online(site)
            if not batches:
                return
            self.retain()
            done = ingest_group(self._connection(), self.partitions, batches, self.clock())
        except psycopg.Error as exc:
            # The batches are dropped unacknowledged; their sites send them again. Reconnect next time.
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
        for batch, ingested in zip(batches, done, strict=True):
            client.publish(ack_topic(batch.site), encode_ack(ingested.ack), qos=1, retain=True)


def run_central(
    database_url: str,
    mqtt_url: str,
    host: str,
    port: int,
    credentials: Credentials | None = None,
    ready: Callable[[], None] | None = None,
    keep_days: float | None = None,
    allowed_hosts: tuple[str, ...] = (),
    site_api: SiteApi | None = None,
) -> None:
    """Migrate, subscribe, serve until SIGINT or SIGTERM (uvicorn's own handlers end the serve); with
    ``site_api``, each site's own API under /sites/ too, answering to ``host`` and ``allowed_hosts``
    (fleet.central.site_apps)."""
    ingester = Ingester(database_url, keep_days=keep_days)
    ingester.migrate()
    address = BrokerAddress.from_url(mqtt_url)
    client = make_client("vialguard-central", status_topic(CENTRAL), credentials or Credentials(), address)
    client.manual_ack_set(True)  # the worker acknowledges each message once its batch is committed
    publisher = CommandPublisher(database_url)
    ingester.site_online = publisher.wake  # a site back online gets its queued commands again
    connected = threading.Event()

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        c.subscribe(f"{TOPIC_ROOT}/+/batch", qos=1)
        c.subscribe(f"{TOPIC_ROOT}/+/status", qos=1)
        c.subscribe(result_topic("+"), qos=1)
        publisher.wake()  # whatever was published while the broker was away
        c.publish(status_topic(CENTRAL), ONLINE, qos=1, retain=True)
        if not connected.is_set():
            log.info("central connected to the broker %s", mqtt_url)
        connected.set()

    client.on_connect = on_connect
    client.on_message = ingester.on_message
    client.connect_async(address.host, address.port, keepalive=30)
    stop = threading.Event()
    worker = threading.Thread(target=ingester.work, args=(client, stop), name="ingest", daemon=True)
    worker.start()
    publishing = threading.Thread(target=publisher.run, args=(client, stop), name="commands", daemon=True)
    publishing.start()
    client.loop_start()
    server = uvicorn.Server(
        uvicorn.Config(
            create_central_app(
                database_url,
                wake_publisher=publisher.wake,
                site_api=site_api,
                allowed_hosts=(host, *allowed_hosts),
                anonymous_page=loopback_only(host),
            ),
            host=host,
            port=port,
            log_level="warning",
        )
    )
    log.info("central serving http://%s:%d/api/v1/sites", host, port)
    if ready is not None:
        ready()
    try:
        server.run()
    finally:
        stop.set()
        worker.join(10.0)
        publishing.join(10.0)
        client.publish(status_topic(CENTRAL), OFFLINE, qos=1, retain=True).wait_for_publish(2.0)
        client.disconnect()
        client.loop_stop()
