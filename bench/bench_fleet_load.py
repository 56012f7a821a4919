"""The fleet under load: a generator publishing as 1,000 sites, each a light reading a second and a
temperature every ten, to a real ``vialguard central`` on a private PostgreSQL and Mosquitto.

Each site publishes a batch every ``cadence`` seconds with the readings of those seconds, its rows numbered
on from the last: every 30 s, as a site's uplink sends what its bridge commits at the default
``commit_seconds``, and every second (a bridge committing every second, the uplink's fastest), the sites
spread evenly over the period. The figure is central's lag: for every batch, the time from its publication to
central's acknowledgement of it (so committed in PostgreSQL), p99 over the run, with the time to drain
what was still unacknowledged when the load stopped; central's memory (peak resident set, from
``/proc``, beside central's idle size); and the processor time central's process and PostgreSQL spent
per second of load, from the start of the load until the backlog drained (less noisy than the lag when
other work shares the machine). Baseline in the same run: the broker's own delivery lag for one
site's batches to a bare subscriber, the floor no central can beat.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench.bench_fleet import _database, _Process, engines, percentile
from bench.harness import Figure, figure
from fleet.engines.mosquitto import PrivateMosquitto
from fleet.engines.ports import free_port, wait_listening
from fleet.engines.postgres import PrivatePostgres
from fleet.protocol import Batch, Row, batch_topic, decode_ack, encode_batch, site_of

LAG_TARGET_SECONDS = 5.0
DRAIN_LIMIT_SECONDS = 120.0
RESEND_SECONDS = 5.0  # an uplink's resend_seconds is 30 by default: shorter here, to drain sooner


class Generator:
    """Publishes as ``sites`` sites and times each batch until central acknowledges it. Like an uplink, a
    site keeps its rows until acknowledged and sends them again when central refuses a batch that leaves
    a hole (the broker drops QoS 1 messages past ``max_queued_messages`` while central is busy) and after
    silence (:meth:`resend_all`)."""

    def __init__(self, port: int, sites: int) -> None:
        self.names = [f"load-{i:04d}" for i in range(sites)]
        self.seq = dict.fromkeys(self.names, 0)
        self.sent: dict[str, deque[tuple[int, float]]] = {n: deque() for n in self.names}
        self.unacknowledged: dict[str, list[Row]] = {n: [] for n in self.names}
        self.resends = 0
        self.lags: list[float] = []
        self.floor: list[float] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-load")
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(1000)
        self.client.on_message = self._acknowledged
        subscribed = threading.Event()
        self.client.on_subscribe = lambda c, u, mid, codes, p: subscribed.set()
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe("vialguard/fleet/+/ack", qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        subscribed.wait(10)
        # The floor: one site's batches as the broker delivers them to a subscriber that does nothing.
        self.watched = batch_topic(self.names[0])
        self.watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-load-floor")
        self.watcher.on_message = self._delivered
        watching = threading.Event()
        self.watcher.on_subscribe = lambda c, u, mid, codes, p: watching.set()
        self.watcher.on_connect = lambda c, u, f, r, p: c.subscribe(self.watched, qos=1)
        self.watcher.connect("127.0.0.1", port)
        self.watcher.loop_start()
        watching.wait(10)

    def _acknowledged(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        ack = decode_ack(bytes(message.payload))
        site = site_of(message.topic)
        with self.lock:
            waiting = self.sent[site]
            while waiting and waiting[0][0] <= ack.through:
                self.lags.append(now - waiting.popleft()[1])
            rows = [r for r in self.unacknowledged[site] if r.seq > ack.through]
            self.unacknowledged[site] = rows
            resend = ack.refused_first is not None and bool(rows) and rows[0].seq < ack.refused_first
        if resend:
            self._publish(site, rows)

    def _delivered(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        sent = json.loads(message.payload)["sent_ts"]
        self.floor.append(time.time() - sent)

    def _publish(self, site: str, rows: list[Row]) -> None:
        now = time.time()
        batch = Batch(site, "load", 0, tuple(rows), now, rows[-1].seq, now)
        self.client.publish(batch_topic(site), encode_batch(batch), qos=1)

    def tick(self, n: int, cadence: int) -> None:
        """Second ``n`` of the run: each site whose turn it is (every ``cadence`` seconds, the sites
        spread evenly) sends the readings of its last ``cadence`` seconds, as a bridge committing every
        ``cadence`` seconds has them in its outbox."""
        now = time.time()
        for i, name in enumerate(self.names):
            if (n + i) % cadence:
                continue
            rows = []
            for back in range(cadence - 1, -1, -1):
                second, ts = n - back, now - back
                seq = self.seq[name] + len(rows) + 1
                light = {"sensor": "lux", "ts": ts, "lux": 3.0, "saturated": False, "cum_lux_hours": 0.0}
                rows.append(Row(seq, "light", light))
                if second % 10 == 0:
                    temperature = {
                        "sensor": "temp",
                        "ts": ts,
                        "celsius": 4.5,
                        "relative_humidity_percent": None,
                        "cum_equivalent_hours": 0.0,
                    }
                    rows.append(Row(seq + 1, "temperature", temperature))
            self.seq[name] = rows[-1].seq
            with self.lock:
                self.sent[name].append((rows[-1].seq, time.perf_counter()))
                self.unacknowledged[name] += rows
            self._publish(name, rows)

    def resend_all(self) -> None:
        with self.lock:
            pending = [(s, list(rows)) for s, rows in self.unacknowledged.items() if rows]
            self.resends += len(pending)
        for site, rows in pending:
            self._publish(site, rows)

    def waiting(self) -> int:
        with self.lock:
            return sum(len(w) for w in self.sent.values())

    def close(self) -> None:
        for client in (self.client, self.watcher):
            client.disconnect()
            client.loop_stop()


def _memory_megabytes(pid: int, field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of a process, from ``/proc``."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def _cpu_seconds(pids: list[int]) -> float:
    """User and system time the processes have used so far (those that ended meanwhile: nothing)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / tick


def _postgres_pids(postgres: PrivatePostgres) -> list[int]:
    """The postmaster and its children (backends, the writers, autovacuum) as they are now."""
    postmaster = int((postgres.data_dir / "postmaster.pid").read_text(encoding="utf-8").split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if parent == postmaster:
            children.append(int(entry.name))
    return [postmaster, *children]


@dataclass(frozen=True, slots=True)
class LoadResult:
    lags: list[float]  # seconds from each batch's publication to its acknowledgement
    floor: list[float]  # the broker's delivery lag to a bare subscriber
    drain_seconds: float  # after the load stopped, until every batch was acknowledged
    idle_megabytes: float
    peak_megabytes: float
    central_cpu_seconds: float  # central's process, from the load's start until the backlog drained
    postgres_cpu_seconds: float  # PostgreSQL's processes, likewise


def load_central(
    postgres: PrivatePostgres, broker: PrivateMosquitto, sites: int, seconds: int, cadence: int
) -> LoadResult:
    """Run a fresh central under the load for ``seconds``, then until it has acknowledged everything."""
    directory = Path(tempfile.mkdtemp(prefix="vialguard-bench-load-"))
    url = _database(postgres, f"bench_load_{cadence}")
    port = free_port()
    central = _Process(
        ["central", "--database", url, "--mqtt", broker.url, "--port", str(port)], directory / "central.log"
    )
    try:
        wait_listening(port, 60.0, lambda: central.popen.poll() is None, "central", str(directory))
        time.sleep(1.0)  # central subscribes just after it listens
        idle = _memory_megabytes(central.popen.pid, "VmRSS")
        load = Generator(broker.port, sites)
        busy = _postgres_pids(postgres)
        central_before = _cpu_seconds([central.popen.pid])
        postgres_before = _cpu_seconds(busy)
        start = time.perf_counter()
        for n in range(seconds):
            load.tick(n, cadence)
            time.sleep(max(0.0, start + n + 1 - time.perf_counter()))
        stopped = time.perf_counter()
        next_resend = stopped + RESEND_SECONDS
        while load.waiting() and time.perf_counter() - stopped < DRAIN_LIMIT_SECONDS:
            time.sleep(0.05)
            if time.perf_counter() > next_resend:
                load.resend_all()
                next_resend += RESEND_SECONDS
        drain = time.perf_counter() - stopped
        central_cpu = _cpu_seconds([central.popen.pid]) - central_before
        postgres_cpu = _cpu_seconds(busy) - postgres_before
        unacknowledged = load.waiting()
        load.close()
        peak = _memory_megabytes(central.popen.pid, "VmHWM")
    finally:
        central.stop()
        shutil.rmtree(directory, ignore_errors=True)
    if unacknowledged:
        raise RuntimeError(f"{unacknowledged} batches unacknowledged {DRAIN_LIMIT_SECONDS:g} s after load")
    return LoadResult(load.lags, load.floor, drain, idle, peak, central_cpu, postgres_cpu)


def run(smoke: bool) -> list[Figure]:
    sites = 20 if smoke else 1_000
    seconds = 3 if smoke else 60
    figures = []
    with engines() as (postgres, broker):
        # The bridge's default commit_seconds, then a commit every second (smoke: the second alone).
        for cadence in (1,) if smoke else (30, 1):
            result = load_central(postgres, broker, sites, seconds, cadence)
            p99 = percentile(result.lags, 99)
            floor = percentile(result.floor, 99) if result.floor else statistics.fmean(result.lags)
            label = (
                f"{sites:,} sites, 1 Hz light + 0.1 Hz temperature, a batch every {cadence} s, {seconds} s"
            )
            figures += [
                figure(
                    f"central's lag, publication to acknowledgement, p99 ({label})",
                    p99,
                    floor,
                    "the broker's delivery to a bare subscriber, p99",
                    "s",
                    f"under {LAG_TARGET_SECONDS:g} s",
                    p99 < LAG_TARGET_SECONDS,
                ),
                figure(
                    f"central's backlog drained after the load stopped ({label})",
                    max(result.drain_seconds, 1e-3),
                    1.0,
                    "one second of load",
                    "s",
                    f"under {LAG_TARGET_SECONDS:g} s",
                    result.drain_seconds < LAG_TARGET_SECONDS,
                ),
                figure(
                    f"central's peak resident memory ({label})",
                    result.peak_megabytes,
                    result.idle_megabytes,
                    "central idle, before the load",
                    "MB",
                    "stated",
                    True,
                ),
                figure(
                    f"central's processor time per second of load ({label})",
                    max(result.central_cpu_seconds / seconds, 1e-3),  # a smoke run may use under a tick
                    1.0,
                    "one core",
                    "s/s",
                    "stated",
                    True,
                ),
                figure(
                    f"PostgreSQL's processor time per second of load ({label})",
                    max(result.postgres_cpu_seconds / seconds, 1e-3),
                    1.0,
                    "one core",
                    "s/s",
                    "stated",
                    True,
                ),
            ]
    return figures
