"""Serial bridge: frames per second the host ingests, and its CPU at a 115200-baud line's full rate.

Workload: the frames a microcontroller sends when it is plugged back in with a full buffer, a hello and
then readings of one light sensor a second and one temperature sensor every 10 s (the firmware's defaults),
encoded by the firmware's own codec, written by a thread into a real pseudo-terminal. The host is the
bridge's own code: ``SerialSource`` opening the pty by URL with pyserial, the acquisition loop's ``run``,
the engine storing every reading with its ledger and rules in SQLite (WAL), acknowledgements sent back.

Baseline in the same run, over the same bytes through the same pty: a bare pyserial read loop
(``read(in_waiting)``, split into lines, nothing else), the floor any host pays to hear the line at all.

Figures:

- throughput: frames/s from the first byte to the last frame committed, the writer never waiting;
- CPU seconds per 100,000 frames, of the thread that reads and ingests (``time.thread_time``);
- share of one core at the line rate: the writer paced at 115200 baud (11,520 bytes/s of 8N1 framing,
  so about 150 frames/s), the host's thread CPU over the run's wall time. Target: under 10 %.
"""

from __future__ import annotations

import contextlib
import os
import select
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import serial

from bench.harness import Figure, figure
from firmware_bridge import frames
from firmware_bridge.acquisition import AcquisitionLoop, AcquisitionSettings
from firmware_bridge.firmware_sim import PtyPort
from firmware_bridge.serial_source import SerialSource
from hardware.clock import SystemClock
from monitor.alerts.rules import default_rules
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.model.profiles import load_catalog
from monitor.site_sync import sync_site
from monitor.store import Database

BAUD = 115_200
LINE_BYTES_PER_SECOND = BAUD / 10  # 8 data bits, a start and a stop bit per byte
DEVICE = "e6614103e7"
BOOT = "0a1b2c3d"


def workload(count: int) -> bytes:
    """A hello and ``count`` readings, the oldest first, as sent on a replug after ``count`` s offline."""
    span_ms = count * 1000
    sensors = [
        frames.SensorInfo(0, "fridge-1-lux", "tsl2591", "light", 1000),
        frames.SensorInfo(1, "fridge-1-temp", "mcp9808", "temperature", 10000),
    ]
    out = [frames.Hello(DEVICE, BOOT, count, span_ms, 1, "0.1.0", 29, 0, sensors).encode()]
    light_ms = 0
    for seq in range(1, count + 1):
        if seq % 11 == 0:  # one temperature reading to ten of light
            frame: frames.Reading = frames.TemperatureData(
                DEVICE, BOOT, seq, span_ms, 1, 1, light_ms, 4.0 + (seq % 1800) / 900.0, None
            )
        else:
            light_ms += 1000
            lux = 600.0 if light_ms // 1000 % 8640 < 60 else 0.0  # the door open a minute in 2.4 h
            counts = (int(lux * 40), int(lux * 9))
            frame = frames.LightData(
                DEVICE, BOOT, seq, span_ms, 1, 0, light_ms, lux, False, 428.0, 200.0, counts
            )
        out.append(frame.encode())
    return b"".join(out)


class Line:
    """A pty whose device end a thread feeds with ``data``, as fast as it goes or at ``bytes_per_second``.

    It also reads what the host sends back (the query, the acks), as a device does, so the host's writes
    never fill the pty and block.
    """

    def __init__(self, data: bytes, bytes_per_second: float | None = None) -> None:
        self.port = PtyPort.open()
        self.url = self.port.slave_path
        self._data = data
        self._rate = bytes_per_second
        self.from_host = bytearray()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _feed(self) -> None:
        fd = self.port.fd
        sent = 0
        started = time.monotonic()
        while sent < len(self._data) and not self._done.is_set():
            limit = len(self._data)
            if self._rate is not None:
                limit = min(limit, int((time.monotonic() - started) * self._rate))
            readable, writable, _ = select.select([fd], [fd] if limit > sent else [], [], 0.01)
            if readable:
                self._drain(fd)
            if writable:
                with contextlib.suppress(BlockingIOError):  # the host's end is full: wait for select
                    sent += os.write(fd, self._data[sent : min(limit, sent + 4096)])
        while not self._done.is_set():  # keep hearing acks until the host is done
            if select.select([fd], [], [], 0.05)[0]:
                self._drain(fd)

    def _drain(self, fd: int) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # nothing waiting, or the host closed
            self.from_host += os.read(fd, 65536)

    def close(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)
        self.port.close()


def _settings(directory: Path, url: str) -> Settings:
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    raw: dict[str, Any] = tomllib.loads(text)
    for s in raw["sensors"]:
        s["driver"] = "serial"
        s.pop("address", None)
    raw["bridge"] = {"batch_seconds": 1.0, "serial": [{"url": url}]}
    return parse_settings(raw, "simulated.toml", {"db_path": directory / "v.db"})


class _Until(threading.Event):
    """A stop event that is set once ``done()`` is true: the loop's ``run`` asks it every turn."""

    def __init__(self, done: Callable[[], bool]) -> None:
        super().__init__()
        self._done = done

    def is_set(self) -> bool:
        return self._done()


def host(line: Line, count: int, directory: Path, seconds: float | None = None) -> tuple[float, float]:
    """The bridge's serial path until ``count`` frames are stored (or ``seconds`` pass): (wall, CPU) s."""
    settings = _settings(directory, line.url)
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    clock = SystemClock()
    sync_site(conn, settings, clock.wall())
    engine = Engine(conn, load_catalog(), default_rules(settings.rules.thresholds()))
    sensors = {s.key: s.quantity for s in settings.sensors}
    source = SerialSource(settings.bridge.serial[0], conn, sensors, clock)
    loop = AcquisitionLoop([], clock, engine, AcquisitionSettings(batch_seconds=1.0), sources=[source])
    deadline = None if seconds is None else time.monotonic() + seconds

    def done() -> bool:
        return source.counts["stored"] >= count or (deadline is not None and time.monotonic() >= deadline)

    loop.poll_once()  # opens the port by URL and sends the query, before the device starts talking
    cpu = time.thread_time()
    wall = time.monotonic()
    line.start()
    loop.run(_Until(done))  # its last act flushes: the final frames are committed and acknowledged
    cpu = time.thread_time() - cpu
    wall = time.monotonic() - wall
    stored = conn.execute("SELECT COUNT(*) FROM serial_frames").fetchone()[0]
    conn.close()
    if seconds is None and stored != count:
        raise RuntimeError(f"the host stored {stored} of {count} frames")
    return wall, cpu


def bare(line: Line, count: int, seconds: float | None = None) -> tuple[float, float]:
    """A bare pyserial loop reading the same bytes into lines, pausing as the bridge does when idle."""
    port = serial.serial_for_url(line.url, timeout=0)
    lines = 0
    rest = b""
    cpu = time.thread_time()
    wall = time.monotonic()
    deadline = None if seconds is None else wall + seconds
    line.start()
    while lines < count + 1 and (deadline is None or time.monotonic() < deadline):
        data = port.read(port.in_waiting or 1)
        if not data:
            time.sleep(0.02)
            continue
        parts = (rest + data).split(b"\n")
        rest = parts.pop()
        lines += len(parts)
    cpu = time.thread_time() - cpu
    wall = time.monotonic() - wall
    port.close()
    return wall, cpu


def _measure(
    data: bytes, count: int, ours: bool, rate: float | None, seconds: float | None
) -> tuple[float, float]:
    line = Line(data, rate)
    try:
        if ours:
            with tempfile.TemporaryDirectory() as d:
                return host(line, count, Path(d), seconds)
        return bare(line, count, seconds)
    finally:
        line.close()


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    walls = sorted(w for w, _ in runs)
    cpus = sorted(c for _, c in runs)
    return walls[len(walls) // 2], cpus[len(cpus) // 2]


def run(smoke: bool) -> list[Figure]:
    count = 2_000 if smoke else 100_000
    repeats = 1 if smoke else 3
    paced_seconds = 1.0 if smoke else 20.0
    data = workload(count)
    frame_bytes = len(data) / (count + 1)
    line_rate_frames = LINE_BYTES_PER_SECOND / frame_bytes

    ours_wall, ours_cpu = _median([_measure(data, count, True, None, None) for _ in range(repeats)])
    bare_wall, bare_cpu = _median([_measure(data, count, False, None, None) for _ in range(repeats)])
    ours_rate = count / ours_wall
    bare_rate = count / bare_wall
    per_100k_ours = ours_cpu / count * 100_000
    per_100k_bare = bare_cpu / count * 100_000

    paced_wall, paced_cpu = _measure(data, count, True, LINE_BYTES_PER_SECOND, paced_seconds)
    bare_paced_wall, bare_paced_cpu = _measure(data, count, False, LINE_BYTES_PER_SECOND, paced_seconds)
    share = 100.0 * paced_cpu / paced_wall
    bare_share = 100.0 * bare_paced_cpu / bare_paced_wall
    return [
        figure(
            "Serial: frames/s ingested (pty, store + ledger + rules, acked)",
            ours_rate,
            bare_rate,
            "bare pyserial read loop",
            "frames/s",
            f">= {line_rate_frames:.0f} frames/s (115200 baud)",
            ours_rate >= line_rate_frames,
        ),
        figure(
            "Serial: CPU seconds per 100,000 frames",
            per_100k_ours,
            per_100k_bare,
            "bare pyserial read loop",
            "CPU s",
            f"< {0.1 * 100_000 / line_rate_frames:.0f} CPU s (10 % of a core at line rate)",
            per_100k_ours < 0.1 * 100_000 / line_rate_frames,
        ),
        figure(
            "Serial: share of one core at the 115200-baud line rate",
            share,
            bare_share,
            "bare pyserial read loop",
            "%",
            "< 10 %",
            share < 10.0,
        ),
    ]
