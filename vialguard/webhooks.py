"""The webhook deliverer: posts every alert change from the outbox to each configured URL, at least once.

It runs as its own process (``vialguard webhooks``, started by ``vialguard run`` when ``[[webhooks]]`` are
configured), not inside the bridge or the API: a receiver that is slow or hangs for its whole timeout must
never delay the acquisition loop, which timestamps the readings, nor hold the API's threads; a crash here
restarts this process alone; and one process per database means no change is posted twice at once.
Each endpoint has its own thread and connection in :meth:`Deliverer.run`, so one that hangs delays no other.

Per endpoint, changes go in ``seq`` order. A failure (connection refused, timeout, any answer but 2xx) is
retried after :func:`monitor.webhooks.backoff_seconds`, and the changes behind it wait, so the receiver
never sees a later change before an earlier one. Each POST carries the Standard Webhooks headers (signed
when the secrets file gives the URL a ``signing_secret``) and, with a username and password there, HTTP
Basic auth; the URL itself never carries credentials (monitor.config refuses them).

Only a 2xx moves the endpoint's ``delivered_seq``, in its own transaction after the POST: a crash between
the two sends that change again (at least once, with the same ``Idempotency-Key`` and ``webhook-id``).
The one exception is a receiver that falls more than ``max_backlog_changes`` behind: its oldest changes
beyond that are skipped, and a system event names them and the cursor that reaches them over the alerts
API, so a receiver gone for good cannot grow the outbox on the Pi's card.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hardware.clock import Clock
from monitor import webhooks
from monitor.config import WebhookConfig
from monitor.store import Database, runs
from monitor.store import webhooks as webhook_store
from monitor.store.database import transaction
from monitor.webhook_secrets import NONE as NO_SECRETS
from monitor.webhook_secrets import WebhookSecrets
from monitor.webhooks import loggable

log = logging.getLogger(__name__)

# At most this many changes to one endpoint per pass, so one busy endpoint cannot starve the others.
MAX_PER_PASS = 200
IDLE_SECONDS = 1.0
# How often each endpoint's backlog is counted against ``max_backlog_changes``: a primary-key range count,
# cheap, but no need for it every idle second.
BACKLOG_CHECK_SECONDS = 60.0
BACKLOG_SKIPPED = "webhook-backlog-skipped"  # the system event that names skipped changes


class DeliveryFailed(Exception):
    """One POST was not accepted; the message says why (never the secret)."""


Poster = Callable[[WebhookConfig, bytes, dict[str, str]], None]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET somewhere else: report it as a failure instead.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(hook: WebhookConfig, payload: bytes, headers: dict[str, str]) -> None:
    """POST with urllib (no dependency to install on a Pi); anything but 2xx raises DeliveryFailed."""
    request = urllib.request.Request(hook.url, data=payload, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=hook.timeout_seconds) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DeliveryFailed(f"{type(reason).__name__}: {reason}") from exc
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")


@dataclass
class Deliverer:
    database: Database
    hooks: Sequence[WebhookConfig]
    clock: Clock
    site_name: str = "vialguard"
    poster: Poster = post
    # Per URL, from the secrets file (monitor/webhook_secrets.py); a URL not in it is posted unsigned.
    secrets: Mapping[str, WebhookSecrets] = field(default_factory=dict)
    # The ``webhook-timestamp`` of each attempt: real Unix time, which receivers compare with their own
    # clocks to refuse replays; in a sped-up simulation the system's ``clock`` runs ahead of it.
    real_time: Callable[[], float] = time.time
    _conn: sqlite3.Connection = field(init=False)
    _down: set[str] = field(default_factory=set)
    _backlog_checked: dict[str, float] = field(default_factory=dict)  # per URL, on the monotonic clock

    def __post_init__(self) -> None:
        self._conn = self.database.connect()
        with transaction(self._conn):
            webhook_store.sync_endpoints(self._conn, [h.url for h in self.hooks])

    def close(self) -> None:
        self._conn.close()

    def run_once(self) -> int:
        """Deliver what is due now to every endpoint; returns how many changes were accepted."""
        return sum(self._pass(self._conn, hook) for hook in self.hooks)

    def _pass(self, conn: sqlite3.Connection, hook: WebhookConfig) -> int:
        accepted = self._deliver(conn, hook)
        if accepted:
            with transaction(conn):
                webhook_store.purge_delivered(conn)
        return accepted

    def _skip_stale(self, conn: sqlite3.Connection, hook: WebhookConfig) -> None:
        """Skip the endpoint's oldest unaccepted changes beyond ``max_backlog_changes``, record which in
        ``system_events`` and free their outbox rows: a receiver gone for good costs bounded storage."""
        checked = self.clock.monotonic()  # a step of the wall clock neither hastens nor stalls it
        if checked - self._backlog_checked.get(hook.url, -math.inf) < BACKLOG_CHECK_SECONDS:
            return
        self._backlog_checked[hook.url] = checked
        now = self.clock.wall()
        with transaction(conn):
            skipped = webhook_store.skip_beyond(conn, hook.url, hook.max_backlog_changes)
            if skipped is None:
                return
            detail = (
                f"webhook {loggable(hook.url)}: more than {hook.max_backlog_changes} alert changes waited;"
                f" the oldest {skipped.count} (seq {skipped.first_seq} to {skipped.last_seq}) are skipped;"
                f" GET /api/v1/alerts?since={skipped.first_seq - 1} has the alerts they changed"
            )
            runs.record_event(conn, now, BACKLOG_SKIPPED, detail)
            webhook_store.purge_delivered(conn)
        log.warning("%s", detail)

    def _deliver(self, conn: sqlite3.Connection, hook: WebhookConfig) -> int:
        accepted = 0
        self._skip_stale(conn, hook)
        state = webhook_store.endpoint(conn, hook.url)
        if self.clock.wall() < state.next_attempt_ts:
            return 0
        delivered, attempts = state.delivered_seq, state.attempts
        while accepted < MAX_PER_PASS:
            row = webhook_store.next_change(conn, delivered)
            if row is None:
                break
            message = webhooks.encode(webhooks.body(self.site_name, row))
            key = webhooks.idempotency_key(self.site_name, row)
            secrets = self.secrets.get(hook.url, NO_SECRETS)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "vialguard-webhooks",
                "Idempotency-Key": webhooks.header_value(key),
                # signed at this attempt's time: a retry carries a fresh timestamp and signature
                **webhooks.standard_headers(key, self.real_time(), message, secrets.signing_secret),
            }
            if secrets.basic_auth is not None:
                headers["Authorization"] = secrets.basic_auth
            try:
                self.poster(hook, message, headers)
            except DeliveryFailed as exc:
                attempts += 1
                wait = webhooks.backoff_seconds(attempts)
                with transaction(conn):
                    webhook_store.mark_failed(conn, hook.url, attempts, self.clock.wall() + wait, str(exc))
                if hook.url not in self._down:  # logged on the edge, not on every retry
                    self._down.add(hook.url)
                    log.warning("webhook %s failing (%s); retrying with backoff", loggable(hook.url), exc)
                break
            with transaction(conn):
                webhook_store.mark_delivered(conn, hook.url, row.seq, self.clock.wall())
            delivered, attempts = row.seq, 0
            accepted += 1
            if hook.url in self._down:
                self._down.discard(hook.url)
                log.info("webhook %s accepting again", loggable(hook.url))
        return accepted

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set: a thread per endpoint, so one that hangs for its whole timeout
        delays no other receiver."""
        threads = [
            threading.Thread(target=self._run_endpoint, args=(hook, stop), name=f"webhook-{i}", daemon=True)
            for i, hook in enumerate(self.hooks)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _run_endpoint(self, hook: WebhookConfig, stop: threading.Event) -> None:
        conn = self.database.connect()  # a connection per thread: SQLite's are not shared across threads
        try:
            while not stop.is_set():
                if self._pass(conn, hook) < MAX_PER_PASS:  # a full batch goes again at once
                    stop.wait(IDLE_SECONDS)
        finally:
            conn.close()
