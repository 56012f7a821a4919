"""The uplink's loop: read the outbox, publish batches at QoS 1, apply central's acknowledgements.

A broker's PUBACK proves nothing (a broker killed with SIGKILL, or one whose queue for an offline client
overflowed, drops messages it acknowledged), so a row stays in the outbox until central says it has
*committed* it: a cumulative acknowledgement ``through`` per epoch. Up to ``window_batches`` batches are in
flight; the uplink sends again from the acknowledged point when it (re)connects, when central comes back
online, when central refuses a batch that does not continue from its point, and after ``resend_seconds``
without an acknowledgement. Central ignores what it already has, so a resend costs bandwidth, never a
duplicate.

Each batch carries the outbox's running digest (:func:`monitor.store.outbox_chain.chain`) and each
acknowledgement the digest central stored at its point. Before it deletes anything the uplink checks that
digest against its own: a database put back by hand (a copy of itself, an SD card's image) may have
numbered new rows that central already holds from the timeline it lost, and deleting them on that
acknowledgement would lose them. A database whose digest differs, or which never numbered that far,
draws a new epoch, logs a warning naming what happened and sends again everything it holds; central
records the new epoch with its reason. A new epoch also raises a system alert at the site, which ends once
acknowledged and central has caught up (:mod:`fleet.uplink.epoch_alert`). So does central acknowledging
behind the point it acknowledged before (it lost committed rows, restored from an older backup): the rows
still held here go again under a new epoch, and the alert says how many central lost for good (deleted
here on its acknowledgement).

It also takes central's commands (an alert acknowledged or a silence made at central) from the site's
command topic, applies each once (:mod:`fleet.uplink.commands`) and publishes the result.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from fleet.commands import command_topic, decode_command, encode_result, result_topic
from fleet.mqtt import BrokerAddress, Credentials, make_client
from fleet.protocol import (
    CENTRAL,
    ONLINE,
    Batch,
    Chain,
    Fork,
    ProtocolError,
    Row,
    ack_topic,
    batch_topic,
    decode_ack,
    encode_batch,
    status_topic,
)
from fleet.uplink import commands, epoch_alert
from fleet.uplink.home_assistant import HomeAssistantFeed
from monitor.config.fleet import FleetConfig
from monitor.store import Database
from monitor.store import outbox as outbox_store
from monitor.store.database import snapshot, transaction
from monitor.store.system_alerts import hold, system_alert

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # how often the outbox is looked at for new rows: the bridge commits every few seconds
BACKLOG_CHECK_SECONDS = 30.0
BACKLOG_RULE = "uplink-backlog"
# How often an open new-epoch alert is looked at: a person's acknowledgement is written by another process.
EPOCH_ALERT_CHECK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class _Event:
    kind: str  # connected, disconnected, ack, central-online, command
    payload: bytes = b""
    retained: bool = False  # the broker's stored copy, sent on subscribing (not a live answer)


def credentials_of(fleet: FleetConfig, base: Path) -> Credentials:
    """The fleet table's files, relative to the settings file's folder ``base``."""

    def resolve(path: Path | None) -> Path | None:
        return None if path is None or path.is_absolute() else base / path

    def keep(path: Path | None) -> Path | None:
        return path if path is None or path.is_absolute() else resolve(path)

    return Credentials(
        fleet.username,
        keep(fleet.password_file),
        keep(fleet.ca_file),
        keep(fleet.cert_file),
        keep(fleet.key_file),
    )


class Uplink:
    """One site's uplink over its own database connection; ``site_wall`` is the site's clock (simulated
    or real) for the alerts it raises, ``real_time`` the real clock for ages and the skew."""

    def __init__(
        self,
        db_path: Path,
        fleet: FleetConfig,
        credentials: Credentials,
        site_wall: Callable[[], float],
        real_time: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        home_assistant: HomeAssistantFeed | None = None,
        model: commands.SiteModel | None = None,  # for central's vial commands
    ) -> None:
        self.fleet = fleet
        self.model = model
        self.home_assistant = home_assistant
        self.next_home_assistant = 0.0
        self.site = fleet.site
        self.credentials = credentials
        self.site_wall = site_wall
        self.real_time = real_time
        self.monotonic = monotonic
        self.conn = Database(db_path).connect()
        self.events: queue.Queue[_Event] = queue.Queue()
        self.connected = False
        self.epoch = ""
        self.base = 0
        self.acked = 0
        self.acked_digest = ""
        self.fork: Fork | None = None
        self.sent_through = 0
        self.sent_digest = ""  # the chain's digest through sent_through
        self.sent_digests: dict[int, str] = {}  # through each batch's last row in flight: central acks there
        self.last_progress = 0.0
        self.last_send = -float("inf")
        self.next_backlog_check = 0.0
        self.epoch_alert_open = False
        self.next_epoch_alert_check = 0.0

    # -- paho's network thread: hand everything to the loop ------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if not reason.is_failure:
            self.events.put(_Event("connected"))
        else:
            log.warning("broker refused the connection: %s", reason)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self.events.put(_Event("disconnected"))

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic == status_topic(CENTRAL):
            if message.payload == ONLINE:
                self.events.put(_Event("central-online"))
        elif message.topic == command_topic(self.site):
            self.events.put(_Event("command", bytes(message.payload)))
        else:
            self.events.put(_Event("ack", bytes(message.payload), bool(message.retain)))

    # -- the loop ------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        with transaction(self.conn):
            state = outbox_store.enable(self.conn, self.site)
            if state.epoch is None:  # a restored backup: its numbers may repeat the original's
                state = self._new_epoch("restored from a backup")
                log.warning("this database was restored from a backup: sending as a new epoch")
        self._adopt(state)
        self._settle_epoch_alert()
        host, port, _tls = self.fleet.broker
        client = make_client(
            f"vialguard-uplink-{self.site}",
            status_topic(self.site),
            self.credentials,
            BrokerAddress.from_url(self.fleet.mqtt),
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.connect_async(host, port, keepalive=30)
        client.loop_start()
        log.info(
            "uplink for site %s to %s (epoch %s, acknowledged through %d)",
            self.site,
            self.fleet.mqtt,
            self.epoch,
            self.acked,
        )
        try:
            while not stop.is_set():
                self._step(client)
                try:
                    event = self.events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                self._handle(client, event)
                while True:  # everything that arrived meanwhile, before the next send
                    try:
                        self._handle(client, self.events.get_nowait())
                    except queue.Empty:
                        break
        finally:
            if self.connected:
                client.publish(status_topic(self.site), b"offline", qos=1, retain=True).wait_for_publish(2.0)
            client.disconnect()
            client.loop_stop()
            self.conn.close()

    def _adopt(self, state: outbox_store.UplinkState) -> None:
        assert state.epoch is not None
        self.epoch, self.base, self.acked = state.epoch, state.epoch_base_seq, state.acked_seq
        self.acked_digest = state.acked_digest
        self.fork = None if state.epoch_reason is None else Fork(state.parent_epoch, state.epoch_reason)
        self.sent_through, self.sent_digest = self.acked, self.acked_digest
        self.sent_digests.clear()

    def _rewind(self, why: str) -> None:
        if self.sent_through > self.acked:
            log.info("sending again from %d (%s)", self.acked + 1, why)
        self.sent_through, self.sent_digest = self.acked, self.acked_digest
        self.sent_digests.clear()
        self.last_progress = self.monotonic()

    def _handle(self, client: mqtt.Client, event: _Event) -> None:
        if event.kind == "connected":
            log.info("connected to the broker %s", self.fleet.mqtt)
            self.connected = True
            client.subscribe(
                [(ack_topic(self.site), 1), (status_topic(CENTRAL), 1), (command_topic(self.site), 1)]
            )
            client.publish(status_topic(self.site), ONLINE, qos=1, retain=True)
            self._rewind("connected")
            self.last_send = -float("inf")  # ask central where it stands at once
            if self.home_assistant is not None:
                self.home_assistant.reconnected()
                self.next_home_assistant = 0.0
        elif event.kind == "disconnected":
            if self.connected:
                log.warning("lost the broker %s; rows wait in the outbox", self.fleet.mqtt)
            self.connected = False
        elif event.kind == "central-online":
            self._rewind("central is back online")
        elif event.kind == "ack":
            self._acknowledged(event.payload, event.retained)
        elif event.kind == "command":
            self._command(client, event.payload)

    def _command(self, client: mqtt.Client, payload: bytes) -> None:
        """Apply central's command once and answer it; a duplicate gets the stored result again."""
        try:
            command = decode_command(payload, self.site)
        except ProtocolError as exc:
            log.warning("ignored a command that is not one: %s", exc)
            return
        result = commands.apply(self.conn, command, self.site_wall(), self.model)
        if result.outcome == "refused":
            log.info("refused central's command %s (%s): %s", command.id, command.kind, result.reason)
        client.publish(result_topic(self.site), encode_result(result), qos=1)

    def _acknowledged(self, payload: bytes, retained: bool = False) -> None:
        try:
            ack = decode_ack(payload)
        except ProtocolError as exc:
            log.warning("ignored an acknowledgement that is not one: %s", exc)
            return
        if ack.epoch != self.epoch:
            return  # an earlier epoch's, retained by the broker
        own = self._own_digest(ack.through) if ack.through >= self.acked else None
        if ack.through >= self.acked and own is None:
            self._fork(
                f"central holds epoch {self.epoch} through {ack.through}, beyond the last number this"
                f" database gave ({outbox_store.last_seq(self.conn)}): a copy of it was put back in place"
            )
            return
        if own is not None and ack.digest is not None and ack.digest != own:
            self._fork(
                f"central's rows of epoch {self.epoch} through {ack.through} are not this database's (their"
                " digest differs): a copy of it was put back in place and numbered rows anew"
            )
            return
        if own is not None and ack.through > self.acked:
            with transaction(self.conn):
                outbox_store.acknowledge(self.conn, self.epoch, ack.through, self.real_time(), own)
            self.acked, self.acked_digest = ack.through, own
            for seq in [s for s in self.sent_digests if s <= ack.through]:
                del self.sent_digests[seq]
            if self.sent_through < self.acked:
                self.sent_through, self.sent_digest = self.acked, self.acked_digest
            self.last_progress = self.monotonic()
            if self.epoch_alert_open:
                self._settle_epoch_alert()
        elif ack.through < self.acked and retained:
            # The broker's stored copy, not central's answer: a broker restarted from its periodic
            # persistence hands back an older acknowledgement than the last it forwarded. Central's own
            # answer to the rows sent on connecting says where it stands.
            log.info(
                "the broker's retained acknowledgement of epoch %s through %d is behind the %d acknowledged"
                " here (kept from before a broker restart?); waiting for central's answer",
                self.epoch,
                ack.through,
                self.acked,
            )
            return
        elif ack.through < self.acked:
            self._central_lost(ack.through)
            return
        if ack.refused_first is not None and self.sent_through >= ack.refused_first > self.acked:
            self._rewind(f"central refused a batch from {ack.refused_first}")

    def _own_digest(self, through: int) -> str | None:
        """This database's digest through ``through`` (at or past the acknowledged point); None if it never
        numbered that far."""
        if through == self.acked:
            return self.acked_digest
        if through in self.sent_digests:
            return self.sent_digests[through]
        with snapshot(self.conn):
            return outbox_store.digest_at(self.conn, self.acked, self.acked_digest, through)

    def _new_epoch(self, reason: str, lost_at_central: int = 0) -> outbox_store.UplinkState:
        """Draw a new epoch and raise its alert; inside the caller's write transaction."""
        through = outbox_store.last_seq(self.conn)  # before the alert's own row is queued
        state = outbox_store.new_epoch(self.conn, reason)
        epoch_alert.raise_alert(self.conn, state, through, self.site_wall(), lost_at_central=lost_at_central)
        self.epoch_alert_open = True
        return state

    def _central_lost(self, through: int) -> None:
        """Central acknowledges behind the point it acknowledged before: it lost rows it had committed
        (restored from an older backup). This database deleted the rows up to its point on that
        acknowledgement, so those between central's point and its own are gone; central refuses an epoch
        with a hole, so every row still held here goes again under a new epoch (from this database's
        point), and the epoch's alert says how many rows central lost for good."""
        lost = self.acked - through
        reason = (
            f"central acknowledges epoch {self.epoch} through {through}, behind the {self.acked} it had"
            f" acknowledged: it lost committed rows, and the {lost} numbered {through + 1} to {self.acked}"
            " were deleted here on its acknowledgement"
        )
        with transaction(self.conn):
            state = self._new_epoch(reason, lost)
        log.error("%s; sending every row still held here again as epoch %s", reason, state.epoch)
        self._adopt(state)
        self.last_send = -float("inf")

    def _settle_epoch_alert(self) -> None:
        self.epoch_alert_open = epoch_alert.settle(self.conn, self.epoch, self.acked, self.site_wall())
        self.next_epoch_alert_check = self.monotonic() + EPOCH_ALERT_CHECK_SECONDS

    def _fork(self, reason: str) -> None:
        """Central holds other rows than this database under its numbers: keep every row, send them all
        again under a new epoch, and say why (central records it, the site's alert shows it)."""
        with transaction(self.conn):
            state = self._new_epoch(reason)
        log.warning("%s; sending every row held here again as epoch %s", reason, state.epoch)
        self._adopt(state)
        self.last_send = -float("inf")

    def _step(self, client: mqtt.Client) -> None:
        now = self.monotonic()
        if now >= self.next_backlog_check:
            self._check_backlog()
            self.next_backlog_check = now + min(BACKLOG_CHECK_SECONDS, self.fleet.backlog_alert_seconds / 4)
        if self.epoch_alert_open and now >= self.next_epoch_alert_check:
            self._settle_epoch_alert()
        if not self.connected:
            return
        if self.home_assistant is not None and now >= self.next_home_assistant:
            self.home_assistant.publish(client, self.conn, self.site_wall())
            self.next_home_assistant = now + self.home_assistant.period_seconds
        if self.sent_through > self.acked and now - self.last_progress > self.fleet.resend_seconds:
            self._rewind(f"no acknowledgement in {self.fleet.resend_seconds:g} s")
        window = self.fleet.window_batches * self.fleet.batch_rows
        while self.sent_through - self.acked < window:
            with snapshot(self.conn):
                rows = outbox_store.pending(
                    self.conn, self.sent_through, self.fleet.batch_rows, self.sent_digest
                )
                backlog = outbox_store.backlog(self.conn)
            if not rows and now - self.last_send < self.fleet.heartbeat_seconds:
                return
            if self.sent_through == self.acked:
                self.last_progress = now  # the resend clock starts with the first row in flight
            batch = Batch(
                site=self.site,
                epoch=self.epoch,
                base=self.base,
                rows=tuple(Row(r.seq, r.kind, r.record) for r in rows),
                sent_ts=self.real_time(),
                numbered_through=backlog.last_seq,
                backlog_oldest_queued_ts=backlog.oldest_queued_ts,
                chain=Chain(self.sent_digest, rows[-1].digest) if rows else None,
                fork=self.fork,
            )
            client.publish(batch_topic(self.site), encode_batch(batch), qos=1)
            self.last_send = now
            if not rows:
                return
            self.sent_through, self.sent_digest = rows[-1].seq, rows[-1].digest
            self.sent_digests[self.sent_through] = self.sent_digest

    def _check_backlog(self) -> None:
        """A system alert while a row has waited longer than ``backlog_alert_seconds`` for central."""
        backlog = outbox_store.backlog(self.conn)
        age = 0.0 if backlog.oldest_queued_ts is None else self.real_time() - backlog.oldest_queued_ts
        limit = self.fleet.backlog_alert_seconds
        now = self.site_wall()
        alert = system_alert(
            f"{BACKLOG_RULE}:system",
            BACKLOG_RULE,
            "warning",
            age,
            f"{backlog.rows} rows have waited up to {age / 3600:.1f} h for the fleet's central"
            f" (alert past {limit / 3600:.1f} h): check the network and the broker {self.fleet.mqtt}",
            now,
        )
        with transaction(self.conn):
            hold(self.conn, age > limit, alert, "central has acknowledged the backlog", now)
