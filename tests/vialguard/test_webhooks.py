"""Webhooks: a real receiver on 127.0.0.1 that is down, then up, gets every alert change, in order."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hardware.clock import ManualClock
from monitor import webhooks
from monitor.config import Settings, WebhookConfig
from monitor.site_sync import sync_site
from monitor.store import Database, runs, sites
from monitor.store import alerts as alert_store
from monitor.store import webhooks as webhook_store
from monitor.store.database import transaction
from monitor.timestamps import iso_utc
from monitor.webhook_secrets import WebhookSecrets, load_webhook_secrets
from tests.system_process import free_port
from vialguard.cli import main
from vialguard.webhooks import BACKLOG_SKIPPED, Deliverer

# A Standard Webhooks secret: "whsec_" and the base64 of 32 bytes (fixed, so failures reproduce).
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


@dataclass
class Receiver:
    """What a receiver got: each request's headers and JSON body; answers from ``statuses`` then 200.

    With ``secret``, it verifies each request as a Standard Webhooks receiver does (the reference
    ``standardwebhooks`` library: signature over id, timestamp and body, timestamp within 5 minutes of its
    own clock) and answers 401 to one that fails, noting why in ``refused``. With ``authorization``, a
    request without that Authorization header gets 401 too."""

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    gate: threading.Event | None = None  # when set, each answer waits for it: a receiver that hangs
    secret: str | None = None
    authorization: str | None = None
    refused: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def verdict(self, headers: dict[str, str], payload: bytes) -> str | None:
        """Why this request is refused, or None."""
        if self.authorization is not None and headers.get("Authorization") != self.authorization:
            return "authorization"
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(payload, headers)
            except WebhookVerificationError as exc:
                return str(exc)
        return None


def lower(headers: dict[str, str]) -> dict[str, str]:
    """Header names are case-insensitive (urllib sends ``Webhook-id``): compare them in lower case."""
    return {name.lower(): value for name, value in headers.items()}


@contextmanager
def receiving(port: int, receiver: Receiver) -> Iterator[None]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = self.rfile.read(int(self.headers["Content-Length"]))
            headers = dict(self.headers.items())
            receiver.received.append((headers, payload))
            receiver.paths.append(self.path)
            if receiver.gate is not None:
                receiver.gate.wait(10.0)
            refused = receiver.verdict(headers, payload)
            if refused is not None:
                receiver.refused.append(refused)
            status = 401 if refused is not None else receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Site:
    conn: sqlite3.Connection
    clock: ManualClock
    deliverer: Deliverer
    port: int
    location_id: int
    n: int = 0

    def fire(self, pending: bool = False) -> int:
        self.n += 1
        now = self.clock.wall()
        new = alert_store.NewAlert(
            fingerprint=f"light-exposure:fridge-1:{self.n}",
            rule="light-exposure",
            severity="warning",
            location_id=self.location_id,
            vial_id=None,
            sensor_id=None,
            started_ts=now,
            fired_ts=None if pending else now,
            value=600.0,
            message="light on",
        )
        with transaction(self.conn):
            return alert_store.open_alert(self.conn, new)


def open_site(settings: Settings, clock: ManualClock, *, path: str, site_name: str) -> Site:
    """The simulated site's database with one signed webhook to ``path`` on a free loopback port (nothing
    listens there until a test starts its receiver)."""
    port = free_port()
    hook = WebhookConfig(url=f"http://127.0.0.1:{port}{path}")
    database = Database(settings.db_path)
    database.initialise()
    conn = database.connect()
    sync_site(conn, settings, clock.wall())
    secrets = {hook.url: WebhookSecrets(signing_secret=SECRET)}
    deliverer = Deliverer(database, [hook], clock, site_name=site_name, secrets=secrets)
    return Site(conn, clock, deliverer, port, sites.location_by_key(conn, "fridge-1").id)


@pytest.fixture
def site(settings: Settings, clock: ManualClock) -> Iterator[Site]:
    s = open_site(settings, clock, path="/hook?key=receiver-secret", site_name="Test pharmacy")
    yield s
    s.deliverer.close()
    s.conn.close()


def test_a_receiver_down_then_up_gets_every_change_in_order(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """Changes made while the receiver is down are retried with backoff and all arrive, in seq order."""
    caplog.set_level(logging.INFO)
    a = site.fire()
    with transaction(site.conn):
        alert_store.acknowledge(site.conn, a, "K. Sato", "door closed", site.clock.wall())
    b = site.fire(pending=True)
    with transaction(site.conn):
        alert_store.withdraw(site.conn, b, site.clock.wall(), "light off before 60 s")
        alert_store.resolve(site.conn, a, site.clock.wall(), "light off for 120 s")
    url = site.deliverer.hooks[0].url

    assert site.deliverer.run_once() == 0  # connection refused
    assert webhook_store.endpoint(site.conn, url).attempts == 1
    assert site.deliverer.run_once() == 0  # not yet due: no new attempt
    assert webhook_store.endpoint(site.conn, url).attempts == 1
    site.clock.advance(2.0)
    assert site.deliverer.run_once() == 0
    state = webhook_store.endpoint(site.conn, url)
    assert state.attempts == 2
    assert state.next_attempt_ts == site.clock.wall() + 4.0  # backoff doubles
    assert "ConnectionRefusedError" in state.last_error

    receiver = Receiver(secret=SECRET)
    with receiving(site.port, receiver):
        site.clock.advance(4.0)
        assert site.deliverer.run_once() == 5
        assert receiver.refused == []  # each one signed as Standard Webhooks says
        bodies = [json.loads(body) for _, body in receiver.received]
        assert [(m["alert"]["id"], m["event"]["kind"]) for m in bodies] == [
            (a, "fired"),
            (a, "acknowledged"),
            (b, "pending"),
            (b, "withdrawn"),
            (a, "resolved"),
        ]
        assert [m["alert"]["state"] for m in bodies] == [
            "firing",
            "acknowledged",
            "pending",
            "resolved",
            "resolved",
        ]
        assert bodies[1]["alert"]["acknowledged_by"] == "K. Sato"
        assert bodies[0]["alert"]["location"] == "fridge-1"
        seqs = [m["seq"] for m in bodies]
        assert seqs == sorted(seqs)
        for headers, body in receiver.received:
            message = json.loads(body)
            assert (
                headers["Idempotency-Key"]
                == message["idempotency_key"]
                == f"Test pharmacy:alert-change:{message['seq']}"
            )
            assert lower(headers)["webhook-id"] == message["idempotency_key"]
        assert webhook_store.pending(site.conn) == 0  # delivered rows are purged

        c = site.fire()
        assert site.deliverer.run_once() == 1
        assert json.loads(receiver.received[-1][1])["alert"]["id"] == c
    failing = [r for r in caplog.records if "failing" in r.getMessage()]
    assert len(failing) == 1  # one warning when it went down, not one per retry
    assert any("accepting again" in r.getMessage() for r in caplog.records)
    assert "receiver-secret" not in caplog.text
    assert SECRET not in caplog.text


def test_a_receiver_far_behind_misses_only_the_oldest_changes_and_is_told_where_they_are(
    settings: Settings, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Down while five changes are made, with room for three: the two oldest are skipped (a system event
    and one warning name them and the alerts cursor that still has them), their outbox rows freed; the
    three newest arrive in order once the receiver is back."""
    port = free_port()
    hook = WebhookConfig(url=f"http://127.0.0.1:{port}/hook?key=receiver-secret", max_backlog_changes=3)
    database = Database(settings.db_path)
    database.initialise()
    conn = database.connect()
    sync_site(conn, settings, clock.wall())
    deliverer = Deliverer(database, [hook], clock)
    site = Site(conn, clock, deliverer, port, sites.location_by_key(conn, "fridge-1").id)
    try:
        first = site.fire()
        with transaction(conn):
            alert_store.acknowledge(conn, first, "K. Sato", "door closed", clock.wall())
        kept = [site.fire() for _ in range(3)]
        assert webhook_store.pending(conn) == 5
        with caplog.at_level(logging.WARNING, logger="vialguard.webhooks"):
            assert deliverer.run_once() == 0  # connection refused; the backlog is cut meanwhile
        assert webhook_store.pending(conn) == 3
        (event,) = runs.events(conn, BACKLOG_SKIPPED)
        seq = alert_store.get(conn, first).seq  # the acknowledgement: the second change
        assert f"the oldest 2 (seq {seq - 1} to {seq})" in event.detail
        assert f"GET /api/v1/alerts?since={seq - 2}" in event.detail
        assert "receiver-secret" not in event.detail
        assert event.detail in caplog.text
        assert webhook_store.endpoint(conn, hook.url).attempts == 1  # still failing, not taken for delivered

        receiver = Receiver()
        with receiving(port, receiver):
            clock.advance(60.0)
            assert deliverer.run_once() == 3
        assert [json.loads(b)["alert"]["id"] for _, b in receiver.received] == kept
        assert len(runs.events(conn, BACKLOG_SKIPPED)) == 1  # nothing more to skip: no second event
    finally:
        deliverer.close()
        conn.close()


def test_a_rejected_change_is_sent_again_with_the_same_key(site: Site) -> None:
    """A 500 is a failure: the same change comes again, same idempotency key, and nothing after it first."""
    receiver = Receiver(statuses=[500])
    first, second = site.fire(), site.fire()
    with receiving(site.port, receiver):
        assert site.deliverer.run_once() == 0
        site.clock.advance(2.0)
        assert site.deliverer.run_once() == 2
    keys = [h["Idempotency-Key"] for h, _ in receiver.received]
    assert keys[0] == keys[1] != keys[2]
    assert [json.loads(b)["alert"]["id"] for _, b in receiver.received] == [first, first, second]


def test_an_infinite_value_is_delivered_as_null(site: Site) -> None:
    """A silent sensor's alert has value inf; JSON has none, so it goes as null, as the API writes it."""
    receiver = Receiver()
    loc = site.location_id
    new = alert_store.NewAlert(
        "s", "sensor-stale", "warning", loc, None, None, 0.0, 0.0, float("inf"), "silent"
    )
    with transaction(site.conn):
        alert_store.open_alert(site.conn, new)
    with receiving(site.port, receiver):
        assert site.deliverer.run_once() == 1
    alert = json.loads(receiver.received[0][1])["alert"]
    assert alert["value"] is None
    assert alert["worst_value"] is None


def test_a_potency_value_and_its_times_reach_the_receiver_bit_for_bit(site: Site) -> None:
    """A potency of 94.61234567890123 % has 16 significant digits; SQLite's json_object keeps 15, the
    payload carries it whole, and its times as the API writes them (:func:`monitor.timestamps.iso_utc`)."""
    receiver = Receiver()
    potency, ts = 94.61234567890123, 1796175627.6038153
    new = alert_store.NewAlert(
        "p", "potency-low", "warning", site.location_id, None, None, ts, ts, potency, "potency low"
    )
    with transaction(site.conn):
        alert_store.open_alert(site.conn, new)
    with receiving(site.port, receiver):
        assert site.deliverer.run_once() == 1
    alert = json.loads(receiver.received[0][1])["alert"]
    assert (alert["value"], alert["worst_value"]) == (potency, potency)
    assert (alert["started_at"], alert["fired_at"]) == (iso_utc(ts), iso_utc(ts))


def test_an_endpoint_taken_out_of_the_config_stops_the_outbox(site: Site) -> None:
    """Syncing to no endpoints (what the bridge does at start) empties the outbox and stops its filling."""
    site.fire()
    assert webhook_store.pending(site.conn) == 1
    with transaction(site.conn):
        webhook_store.sync_endpoints(site.conn, [])
    assert webhook_store.pending(site.conn) == 0
    site.fire()
    assert webhook_store.pending(site.conn) == 0


def test_a_hanging_receiver_delays_no_other(settings: Settings, clock: ManualClock) -> None:
    """Each endpoint has its own thread: while one receiver holds its request, the other gets the change."""
    hanging, healthy = Receiver(gate=threading.Event()), Receiver()
    ports = free_port(), free_port()
    hooks = [WebhookConfig(url=f"http://127.0.0.1:{p}/hook", timeout_seconds=30.0) for p in ports]
    database = Database(settings.db_path)
    database.initialise()
    conn = database.connect()
    sync_site(conn, settings, clock.wall())
    deliverer = Deliverer(database, hooks, clock)
    stop = threading.Event()
    loc = sites.location_by_key(conn, "fridge-1").id
    with transaction(conn):
        new = alert_store.NewAlert("f", "light-exposure", "warning", loc, None, None, 0.0, 0.0, 600.0, "m")
        alert_store.open_alert(conn, new)
    with receiving(ports[0], hanging), receiving(ports[1], healthy):
        runner = threading.Thread(target=deliverer.run, args=(stop,))
        runner.start()
        try:
            for _ in range(500):  # real threads and sockets: wait for them, at most 5 s
                if healthy.received and hanging.received:
                    break
                stop.wait(0.01)
            assert len(healthy.received) == 1
            assert len(hanging.received) == 1  # its request is still open
        finally:
            assert hanging.gate is not None
            hanging.gate.set()
            stop.set()
            runner.join(timeout=10)
    deliverer.close()
    conn.close()


def test_a_site_without_webhooks_keeps_no_outbox(settings: Settings, clock: ManualClock) -> None:
    """With no endpoint registered, alert changes leave nothing in the outbox."""
    database = Database(settings.db_path)
    database.initialise()
    conn = database.connect()
    sync_site(conn, settings, clock.wall())
    Deliverer(database, [], clock).close()
    loc = sites.location_by_key(conn, "fridge-1").id
    new = alert_store.NewAlert("f", "light-exposure", "warning", loc, None, None, 0.0, 0.0, 600.0, "m")
    with transaction(conn):
        alert_store.open_alert(conn, new)
    assert webhook_store.pending(conn) == 0
    conn.close()


@pytest.mark.parametrize(
    ("failures", "seconds"), [(1, 2.0), (2, 4.0), (5, 32.0), (9, 300.0), (1000, 300.0)], ids=lambda v: str(v)
)
def test_backoff_doubles_up_to_five_minutes(failures: int, seconds: float) -> None:
    """2 s, 4 s, 8 s ... capped at 300 s."""
    assert webhooks.backoff_seconds(failures) == seconds


def test_the_signature_is_the_standard_webhooks_one(site: Site) -> None:
    """Recomputed from the spec alone: base64 HMAC-SHA256 under the secret's bytes of id.timestamp.body,
    prefixed v1; the id is the idempotency key, the timestamp the attempt's real Unix seconds."""
    receiver = Receiver(secret=SECRET)
    site.fire()
    before = int(time.time())
    with receiving(site.port, receiver):
        assert site.deliverer.run_once() == 1
    ((sent, body),) = receiver.received
    headers = lower(sent)
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    assert msg_id == json.loads(body)["idempotency_key"]
    assert before <= int(stamp) <= int(time.time())  # real time, not the site's (manual) clock
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


def test_a_capture_replayed_outside_the_tolerance_is_refused_and_a_retry_is_signed_afresh(
    site: Site,
) -> None:
    """A delivery stamped ten minutes ago is refused by a Standard Webhooks receiver; the retry carries the
    same id with its own time and signature and is accepted; a capture with its timestamp rewritten to now
    fails the signature, so neither an old capture nor a retouched one can be replayed."""
    stamps = ManualClock(wall=time.time() - 600.0)
    site.deliverer.real_time = stamps.wall
    receiver = Receiver(secret=SECRET)
    site.fire()
    with receiving(site.port, receiver):
        assert site.deliverer.run_once() == 0  # 401: too old
        assert receiver.refused == ["Message timestamp too old"]
        stamps.advance(600.0)
        site.clock.advance(2.0)  # the backoff
        assert site.deliverer.run_once() == 1
    (old_headers, old_body), (new_headers, new_body) = ((lower(h), b) for h, b in receiver.received)
    assert old_body == new_body
    assert old_headers["webhook-id"] == new_headers["webhook-id"]
    assert int(new_headers["webhook-timestamp"]) - int(old_headers["webhook-timestamp"]) == 600
    assert old_headers["webhook-signature"] != new_headers["webhook-signature"]
    retouched = {**old_headers, "webhook-timestamp": new_headers["webhook-timestamp"]}
    assert Receiver(secret=SECRET).verdict(retouched, old_body) == "No matching signature found"
    assert Receiver(secret=SECRET).verdict(old_headers, old_body) == "Message timestamp too old"


def test_a_site_name_beyond_latin_1_still_posts(settings: Settings, clock: ManualClock) -> None:
    """Header values are Latin-1 on the wire: the id of a site named in Polish is percent-encoded there
    (and signed as sent), the body keeps the name as it is."""
    site = open_site(settings, clock, path="/hook", site_name="Apteka Łódź")
    receiver = Receiver(secret=SECRET)
    try:
        site.fire()
        with receiving(site.port, receiver):
            assert site.deliverer.run_once() == 1
    finally:
        site.deliverer.close()
        site.conn.close()
    ((sent, body),) = receiver.received
    headers = lower(sent)
    assert receiver.refused == []
    assert json.loads(body)["site"] == "Apteka Łódź"
    assert headers["webhook-id"] == headers["idempotency-key"] == "Apteka %C5%81%C3%B3d%C5%BA:alert-change:1"


def test_credentials_from_the_secrets_file_go_as_basic_auth_and_nowhere_else(
    tmp_path: Path, settings: Settings, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The URL carries no user or password; the secrets file's username and password reach the receiver as
    HTTP Basic auth, and the password is in neither the database nor the log."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(
        f'[webhooks."{url}"]\nusername = "vialguard"\npassword = "pa:ss wörd"\nsigning_secret = "{SECRET}"\n',
        encoding="utf-8",
    )
    secrets_file.chmod(0o600)
    secrets = load_webhook_secrets(secrets_file, [url])
    database = Database(settings.db_path)
    database.initialise()
    conn = database.connect()
    sync_site(conn, settings, clock.wall())
    deliverer = Deliverer(database, [WebhookConfig(url=url)], clock, secrets=secrets)
    site = Site(conn, clock, deliverer, port, sites.location_by_key(conn, "fridge-1").id)
    expected = "Basic " + base64.b64encode("vialguard:pa:ss wörd".encode()).decode()
    receiver = Receiver(secret=SECRET, authorization=expected)
    caplog.set_level(logging.DEBUG)
    try:
        site.fire()
        with receiving(port, receiver):
            assert deliverer.run_once() == 1
    finally:
        deliverer.close()
        conn.close()
    assert receiver.refused == []
    assert receiver.paths == ["/hook"]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("vialguard.db*"))
    assert "pa:ss wörd".encode() not in stored
    assert "wörd" not in caplog.text
    assert "wörd" not in repr(secrets)


@pytest.mark.parametrize("command", ["run", "webhooks"])
def test_a_secrets_file_others_may_read_stops_the_command_naming_it(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vialguard run` checks the secrets file before starting any child, `vialguard webhooks` before
    delivering: exit 2, one line naming the file and the fix, the secret nowhere in it."""
    url = "http://127.0.0.1:9/hook"
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[webhooks."{url}"]\nsigning_secret = "{SECRET}"\n', encoding="utf-8")
    secrets.chmod(0o644)
    shipped = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    config = tmp_path / "site.toml"
    config.write_text(
        f'secrets_file = "secrets.toml"\n{shipped}\n[[webhooks]]\nurl = "{url}"\n', encoding="utf-8"
    )
    assert main([command, "--config", str(config), "--db", str(tmp_path / "v.db")]) == 2
    err = capsys.readouterr().err
    assert f"{secrets}: mode -rw-r--r--" in err
    assert "chmod 600" in err
    assert SECRET.removeprefix("whsec_") not in err
