"""Central's publisher of commands: every queued command to its site (QoS 1), until the site answers.

A site's MQTT session is clean, so the broker keeps nothing for a site that is away: central publishes
a command at once when it is made, again for a site whose status turns ``online``, for every site when
central (re)connects to the broker, and every ``resend_seconds`` while it is still queued. The site
applies a command once whatever the number of deliveries (:mod:`fleet.uplink.commands`). The publisher
has its own connection to PostgreSQL and its own thread: the HTTP handlers and the ingest thread only
wake it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import psycopg

from fleet.central import commands
from fleet.commands import command_topic, encode_command

log = logging.getLogger(__name__)

RESEND_SECONDS = 30.0
RETRY_SECONDS = 2.0  # after PostgreSQL failed
CONNECT_TIMEOUT_SECONDS = 5


class CommandPublisher:
    def __init__(
        self,
        database_url: str,
        resend_seconds: float = RESEND_SECONDS,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database_url = database_url
        self.resend_seconds = resend_seconds
        self.clock = clock
        self.monotonic = monotonic
        self.conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self.lock = threading.Lock()
        self.woken = threading.Event()
        self.sites: set[str] = set()
        self.every_site = True  # at start: whatever was queued before central stopped
        self.down = False

    def wake(self, site: str | None = None) -> None:
        """Publish the queued commands of ``site`` (None: of every site) soon; from any thread."""
        with self.lock:
            if site is None:
                self.every_site = True
            else:
                self.sites.add(site)
        self.woken.set()

    def run(self, client: mqtt.Client, stop: threading.Event) -> None:
        next_resend = self.monotonic() + self.resend_seconds
        while not stop.is_set():
            self.woken.wait(timeout=max(0.0, min(next_resend - self.monotonic(), 1.0)))
            with self.lock:
                self.woken.clear()
                every, sites = self.every_site, self.sites
                self.every_site, self.sites = False, set()
            if self.monotonic() >= next_resend:
                every, next_resend = True, self.monotonic() + self.resend_seconds
            if not every and not sites:
                continue
            try:
                self._publish(client, None if every else sites)
            except psycopg.Error as exc:
                if not self.down:
                    log.error(  # noqa: TRY400  # a lost connection: its traceback says nothing more
                        "central's database failed (commands wait, queued): %s", exc
                    )
                self.down = True
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                self.wake()  # everything, once the database is back
                stop.wait(RETRY_SECONDS)
                continue
            if self.down:
                log.info("central's database is back: publishing queued commands")
                self.down = False
        if self.conn is not None:
            self.conn.close()

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(
                self.database_url, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True
            )
        return self.conn

    def _publish(self, client: mqtt.Client, sites: set[str] | None) -> None:
        conn = self._connection()
        with conn.transaction():
            waiting = commands.queued(conn, sites)
        if not waiting:
            return
        for record in waiting:
            client.publish(command_topic(record.site), encode_command(record.message()), qos=1)
        commands.published(conn, [r.id for r in waiting], self.clock())
