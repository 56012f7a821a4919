"""The fleet: central's ingest throughput, and the latency from a site's commit to central's alert feed.

Both run on private engines started here (:mod:`fleet.engines`): PostgreSQL with ``fsync`` off (the shared
disk's noise would otherwise swamp the figure; a production central keeps it on, which adds the same
commit cost per batch to vialguard and its baseline alike) and Mosquitto with its defaults.

**Ingest.** What central does with each message: parse the batch (JSON), then one transaction that checks
the site's point, creates the month's partitions, inserts the readings idempotently and moves the point,
the site's counters and the feed's. Workload: a site's back-fill at 1 Hz light and 0.1 Hz temperature in
batches of 500 rows (the uplink's default). Baseline in the same run: a bare psycopg ``COPY`` of the same
rows into the same (partitioned) tables of another database, one transaction per batch of the same size.

**Latency.** A real site (a SQLite database with the outbox, ``vialguard uplink``), broker and central
(``vialguard central``): the site commits an alert change at a random moment, and the time until
central's ``GET /api/v1/fleet/alerts`` lists it (polled every 10 ms) is measured, p50 and p99.
Baseline: the same broker's round trip for a bare QoS 1 message between two paho clients, the
transport's floor.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg

from bench.harness import Figure, figure
from fleet.central import operators
from fleet.central.ingest import ingest
from fleet.central.partitions import Partitions
from fleet.central.reading_inserts import microseconds
from fleet.central.schema import migrate
from fleet.demo import site_settings
from fleet.engines.mosquitto import PrivateMosquitto
from fleet.engines.ports import free_port, wait_listening
from fleet.engines.postgres import PrivatePostgres
from fleet.protocol import Batch, Row, decode_batch, encode_batch
from monitor.store import Database
from monitor.store import outbox as outbox_store
from monitor.store.database import transaction
from monitor.store.system_alerts import hold, system_alert

T0 = 1_767_225_600.0
SITE = "bench-site"
BATCH_ROWS = 500
LATENCY_TARGET_SECONDS = 5.0


@contextlib.contextmanager
def engines() -> Iterator[tuple[PrivatePostgres, PrivateMosquitto]]:
    # Under /tmp and open to all: run as root, PostgreSQL runs as its own user, who must reach it.
    directory = Path(tempfile.mkdtemp(prefix="vialguard-bench-fleet-"))
    directory.chmod(0o755)
    postgres = PrivatePostgres(directory / "postgres", durable=False)
    broker = PrivateMosquitto(directory / "mosquitto")
    try:
        postgres.initialise()
        broker.start()
        yield postgres, broker
    finally:
        broker.stop()
        postgres.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


def _database(postgres: PrivatePostgres, name: str) -> str:
    with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = postgres.url(name)
    with psycopg.connect(url) as conn:
        migrate(conn)
    return url


def payloads(rows: int) -> list[bytes]:
    """A site's back-fill as the broker delivers it: batches of encoded rows, light at 1 Hz and
    temperature every 10 s, numbered from 1."""
    out: list[Row] = []
    s = 0
    while len(out) < rows:
        ts = T0 + s
        seq = len(out) + 1
        lux = 600.0 if s % 8640 < 60 else 0.0
        out.append(
            Row(
                seq,
                "light",
                {
                    "sensor": "fridge-1-lux",
                    "ts": ts,
                    "lux": lux,
                    "saturated": False,
                    "cum_lux_hours": s / 3600.0,
                },
            )
        )
        if s % 10 == 0 and len(out) < rows:
            out.append(
                Row(
                    seq + 1,
                    "temperature",
                    {
                        "sensor": "fridge-1-temp",
                        "ts": ts,
                        "celsius": 4.5,
                        "relative_humidity_percent": None,
                        "cum_equivalent_hours": s / 3600.0 * 0.02,
                    },
                )
            )
        s += 1
    chunks = [out[i : i + BATCH_ROWS] for i in range(0, len(out), BATCH_ROWS)]
    return [encode_batch(Batch(SITE, "bench", 0, tuple(c), T0, rows, None)) for c in chunks]


def ingest_rows_per_second(url: str, messages: list[bytes], rows: int) -> float:
    with psycopg.connect(url) as conn:
        partitions = Partitions()
        start = time.perf_counter()
        for payload in messages:
            ingest(conn, partitions, decode_batch(payload, SITE), time.time())
        elapsed = time.perf_counter() - start
        stored = conn.execute("SELECT readings FROM sites WHERE site = %s", (SITE,)).fetchone()
    if stored is None or int(stored[0]) != rows:
        raise RuntimeError(f"central stored {stored} readings of {rows}")
    return rows / elapsed


def copy_rows_per_second(url: str, messages: list[bytes], rows: int) -> float:
    """The same rows, already decoded, copied into the same tables: no checks, no bookkeeping."""
    batches = [decode_batch(p, SITE) for p in messages]
    received = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        partitions = Partitions()
        with conn.transaction():  # the partitions exist before the clock starts
            for table, kind in (("light_readings", "light"), ("temperature_readings", "temperature")):
                partitions.ensure(
                    conn,
                    table,
                    (
                        float(r.record["ts"])
                        for b in batches
                        for r in b.rows
                        if r.kind == kind and r.record is not None
                    ),
                )
        start = time.perf_counter()
        for batch in batches:
            with conn.transaction(), conn.cursor() as cur:
                light = [r.record for r in batch.rows if r.kind == "light" and r.record is not None]
                temperature = [
                    r.record for r in batch.rows if r.kind == "temperature" and r.record is not None
                ]
                with cur.copy(
                    "COPY light_readings (site, sensor, ts, lux, saturated, cum_lux_hours, received_at)"
                    " FROM STDIN"
                ) as copy:
                    for r in light:
                        copy.write_row(
                            (
                                SITE,
                                r["sensor"],
                                _moment(r["ts"]),
                                r["lux"],
                                r["saturated"],
                                r["cum_lux_hours"],
                                received,
                            )
                        )
                with cur.copy(
                    "COPY temperature_readings (site, sensor, ts, celsius, relative_humidity_percent,"
                    " cum_equivalent_hours, received_at) FROM STDIN"
                ) as copy:
                    for r in temperature:
                        copy.write_row(
                            (
                                SITE,
                                r["sensor"],
                                _moment(r["ts"]),
                                r["celsius"],
                                r["relative_humidity_percent"],
                                r["cum_equivalent_hours"],
                                received,
                            )
                        )
        elapsed = time.perf_counter() - start
        found = conn.execute(
            "SELECT (SELECT count(*) FROM light_readings) + (SELECT count(*) FROM temperature_readings)"
        ).fetchone()
    if found is None or int(found[0]) != rows:
        raise RuntimeError(f"COPY stored {found} readings of {rows}")
    return rows / elapsed


def _moment(ts: float) -> datetime:
    """As central stores it: to the microsecond."""
    return datetime.fromtimestamp(microseconds(ts) / 1e6, UTC)


class _Process:
    def __init__(self, argv: list[str], log: Path) -> None:
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "vialguard", *argv], stdout=out, stderr=subprocess.STDOUT
            )

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def _feed_has(port: int, token: str, event_seq: int, after: int) -> tuple[bool, int]:
    """Whether central's feed lists the site's change ``event_seq``; the cursor to read on from."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/fleet/alerts?after={after}&limit=1000",
        headers={"Authorization": f"Bearer {token}"},  # as an integrator polls it: with a read token
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            page: dict[str, Any] = json.loads(response.read())
    except (OSError, urllib.error.URLError):
        return False, after
    found = any(c["alert"]["event_seq"] == event_seq for c in page["changes"])
    return found, int(page["cursor"])


def commit_to_feed_seconds(postgres: PrivatePostgres, broker: PrivateMosquitto, samples: int) -> list[float]:
    directory = Path(tempfile.mkdtemp(prefix="vialguard-bench-site-"))
    url = _database(postgres, "bench_latency")
    port = free_port()
    config = site_settings(directory, SITE, broker.url, free_port())
    db_path = directory / f"{SITE}.db"
    db = Database(db_path)
    db.initialise()
    conn = db.connect()
    with transaction(conn):
        outbox_store.enable(conn, SITE)
    central = _Process(
        ["central", "--database", url, "--mqtt", broker.url, "--port", str(port)], directory / "central.log"
    )
    uplink = _Process(["uplink", "--config", str(config)], directory / "uplink.log")
    latencies = []
    try:
        wait_listening(port, 60.0, lambda: central.popen.poll() is None, "central", str(directory))
        with psycopg.connect(url, autocommit=True) as pg:
            _, token = operators.create(pg, "bench-reader", "read", time.time(), None, "console:bench")
        cursor = 0
        rng = random.Random(1)
        for i in range(samples + 1):  # the first one waits for the uplink to connect: not counted
            # At a random moment of the uplink's loop, not in step with its last acknowledgement.
            time.sleep(rng.uniform(0.0, 1.2) if i else 0.0)
            now = time.time()
            alert = system_alert("bench:system", "bench", "warning", float(i), "a bench alert", now)
            with transaction(conn):
                hold(conn, i % 2 == 0, alert, "cleared", now)
            event_seq = int(conn.execute("SELECT max(seq) FROM alert_events").fetchone()[0])
            committed = time.perf_counter()
            while True:
                found, cursor = _feed_has(port, token, event_seq, cursor)
                if found:
                    break
                if time.perf_counter() - committed > 60:
                    raise RuntimeError(f"change {event_seq} did not reach central's feed in 60 s")
                time.sleep(0.01)
            if i > 0:
                latencies.append(time.perf_counter() - committed)
    finally:
        uplink.stop()
        central.stop()
        conn.close()
        shutil.rmtree(directory, ignore_errors=True)
    return latencies


def mqtt_round_trip_seconds(broker: PrivateMosquitto, samples: int) -> list[float]:
    """A QoS 1 message from one paho client to another through the broker."""
    arrived = threading.Event()
    receiver = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-receiver")
    sender = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-sender")
    subscribed = threading.Event()
    receiver.on_message = lambda c, u, m: arrived.set()
    receiver.on_subscribe = lambda c, u, mid, codes, p: subscribed.set()
    receiver.on_connect = lambda c, u, f, r, p: c.subscribe("bench/round-trip", qos=1)
    for client in (receiver, sender):
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
    subscribed.wait(10)
    times = []
    try:
        for _ in range(samples):
            arrived.clear()
            start = time.perf_counter()
            sender.publish("bench/round-trip", b"x" * 200, qos=1)
            if not arrived.wait(10):
                raise RuntimeError("a bare MQTT message did not arrive in 10 s")
            times.append(time.perf_counter() - start)
    finally:
        for client in (receiver, sender):
            client.disconnect()
            client.loop_stop()
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(smoke: bool) -> list[Figure]:
    rows = 2_000 if smoke else 200_000
    samples = 3 if smoke else 100
    with engines() as (postgres, broker):
        messages = payloads(rows)
        ours = ingest_rows_per_second(_database(postgres, "bench_ingest"), messages, rows)
        copied = copy_rows_per_second(_database(postgres, "bench_copy"), messages, rows)
        latencies = commit_to_feed_seconds(postgres, broker, samples)
        floor = mqtt_round_trip_seconds(broker, samples)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    return [
        figure(
            f"central ingest, batches of {BATCH_ROWS} rows ({rows:,} rows)",
            ours,
            copied,
            "bare psycopg COPY, same rows and tables",
            "rows/s",
            "at least 1/4 of COPY's rate",
            ours >= copied / 4,
        ),
        figure(
            f"site commit to central's alert feed, p50 ({samples} changes)",
            p50,
            statistics.median(floor),
            "bare MQTT QoS 1 round trip, p50",
            "s",
            f"p50 under {LATENCY_TARGET_SECONDS:g} s",
            p50 < LATENCY_TARGET_SECONDS,
        ),
        figure(
            f"site commit to central's alert feed, p99 ({samples} changes)",
            p99,
            percentile(floor, 99),
            "bare MQTT QoS 1 round trip, p99",
            "s",
            f"p99 under {LATENCY_TARGET_SECONDS:g} s",
            p99 < LATENCY_TARGET_SECONDS,
        ),
    ]


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    for f in run(smoke="--smoke" in sys.argv):
        print(f)  # run alone, the figures on the terminal
