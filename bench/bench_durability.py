"""SD-card wear and the cost of durability: bytes written per simulated day, ingest with the spool on.

- Bytes per simulated day: the real acquisition loop on the shipped simulated fridge (a TSL2591 every
  second, an MCP9808 every ten, through the genuine drivers on emulated chips), driven by a manual clock,
  with the default bridge settings (spool every 2 s, commit every 30 s) on a new database (1 KiB pages).
  Measured as every byte this process hands to the kernel (``wchar`` in ``/proc/self/io``): WAL frames,
  checkpoints into the database, the spool. Baseline in the same run: the same loop committing every 2 s
  batch on 4 KiB pages with no spool (the design before). Target: at most 50 MB a day. Smoke mode runs a
  simulated hour and scales it to a day.
- Ingest with durability on: the back-fill workload of ``bench_ingest`` (batches of 1,000 lux readings),
  each batch appended to the spool, committed through the engine with its heartbeat, and the spool emptied,
  as the bridge does. Baselines: plain ``sqlite3`` ``executemany`` of the same rows, one transaction a batch;
  and the engine alone (``bench_ingest``'s pipeline), whose difference is what the spool costs.
- Memory over a simulated month: ``vialguard run --simulate --speed 86400`` (a day a second; the bridge
  works through the readings as fast as it can, 20,000 a batch), the API polled on its main routes every
  2 s, until a month of readings (30 × 95,040) is stored. Resident size (VmRSS) of the bridge and of the API
  at the end, against the same process after the first simulated day (libraries loaded, first full batches
  committed). Target: at most 10 % more.
  Smoke mode stops after 40,000 readings.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.bench_footprint import _free_port, _role, _rss_mb, _tree
from bench.bench_ingest import T0, _settings, _timed, batches, run_engine, run_raw
from bench.harness import Figure, figure
from firmware_bridge.acquisition import AcquisitionLoop, AcquisitionSettings, SampleTime
from firmware_bridge.sensors import build_fridge, build_simulated_sensors
from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.batch import Batch
from monitor.engine import Engine
from monitor.model.profiles import load_catalog
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store.health import Heartbeat
from monitor.store.spool import Spool

DAY_SECONDS = 86_400.0
TARGET_MB_PER_DAY = 50.0
READINGS_PER_DAY = 86_400 + 8_640  # the shipped site: lux every second, temperature every ten
MONTH_SPEED = 86_400.0
ROLE_NAMES = {"bridge": "Bridge", "api": "API"}
API_ROUTES = ("/api/v1/locations", "/api/v1/vials", "/api/v1/alerts?since=0", "/api/v1/dashboard")


def _bytes_written() -> int:
    """Bytes this process has passed to write(2) and its kin, whatever the file (Linux)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/self/io")


def _engine(directory: Path, page_size: int | None) -> tuple[sqlite3.Connection, Engine]:
    settings = _settings(directory)
    if page_size is not None:  # the database as the design before created it
        with sqlite3.connect(settings.db_path) as pre:
            pre.execute(f"PRAGMA page_size = {page_size}")
            pre.execute("VACUUM")
        pre.close()
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, T0)
    return conn, Engine(conn, load_catalog(), default_rules(settings.rules.thresholds()))


def bytes_per_day(seconds: float, *, spool: bool) -> float:
    """MB written per simulated day by the loop over ``seconds`` of simulated time (after a warm-up)."""
    with tempfile.TemporaryDirectory() as d:
        directory = Path(d)
        settings = _settings(directory)
        conn, engine = _engine(directory, None if spool else 4096)
        clock = ManualClock(wall=T0)
        sample_time = SampleTime()
        fridge = build_fridge(settings.simulation, clock.wall())
        bridge = settings.bridge.model_copy(update={"commit_seconds": 30.0, "batch_seconds": 2.0})
        loop = AcquisitionLoop(
            build_simulated_sensors(settings, fridge, sample_time)[0],
            clock,
            engine,
            AcquisitionSettings(
                bridge.batch_seconds, bridge.commit_seconds if spool else None, stamp_at_due_time=True
            ),
            spool=Spool(Spool.beside(settings.db_path)) if spool else None,
            sample_time=sample_time,
            real_monotonic=clock.monotonic,
        )

        def advance(span: float) -> None:
            end = clock.monotonic() + span
            while clock.monotonic() < end:
                loop.poll_once()
                if loop.due_for_flush():
                    loop.flush()
                elif loop.due_for_spool():
                    loop.write_spool()
                clock.advance(1.0)

        advance(600.0)  # past the first commits and the table's first pages
        before = _bytes_written()
        advance(seconds)
        written = _bytes_written() - before
        if loop.spool is not None:
            loop.spool.close()
        conn.close()
    return written / seconds * DAY_SECONDS / 1e6


def run_durable(data: list[Batch], directory: Path) -> None:
    """The bridge's write path per batch: spool, commit with the heartbeat, empty the spool."""
    conn, engine = _engine(directory, None)
    spool = Spool(directory / "v.db.spool")
    for batch in data:
        spool.append(batch)
        now = batch.light[-1].ts
        engine.ingest(batch, now, Heartbeat(1, now, now, engine.readings_total))
        spool.clear()
    spool.close()
    conn.close()


def _stored(db: Path) -> int | None:
    try:
        with sqlite3.connect(db, timeout=10.0) as conn:
            row = conn.execute("SELECT readings_total FROM heartbeat").fetchone()
    except sqlite3.Error:
        return None  # not created yet
    finally:
        conn.close()
    return None if row is None else int(row[0])


def month_rss(readings: int) -> dict[str, tuple[float, float]]:
    """Resident MB of the bridge and the API at the start and once ``readings`` are stored."""
    with tempfile.TemporaryDirectory() as d:
        db, port = Path(d) / "v.db", _free_port()
        argv = [sys.executable, "-m", "vialguard", "run", "--simulate", "--speed", repr(MONTH_SPEED)]
        proc = subprocess.Popen(
            [*argv, "--db", str(db), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        start: dict[str, float] = {}
        try:
            while True:
                time.sleep(2.0)  # a real system running; its state is only read
                if proc.poll() is not None:
                    raise RuntimeError(f"vialguard run exited with {proc.returncode}")
                stored = _stored(db)
                if stored is None:
                    continue
                for path in API_ROUTES:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
                            response.read()
                    except OSError:
                        continue  # still starting
                rss = {_role(p): _rss_mb(p) for p in _tree(proc.pid)[1:]}
                if not start and stored >= min(READINGS_PER_DAY, readings // 2):
                    start = rss  # after a simulated day: libraries loaded, first full batches done
                if stored >= readings:
                    return {role: (start[role], rss[role]) for role in ("bridge", "api")}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def run(smoke: bool) -> list[Figure]:
    span = 3_600.0 if smoke else DAY_SECONDS
    ours = bytes_per_day(span, spool=True)
    before = bytes_per_day(span / 4, spool=False)  # a quarter of the span: its rate is steady as well
    seconds = 20_000 if smoke else 200_000
    repeats = 1 if smoke else 3
    data = batches(seconds)
    count = sum(len(b) for b in data)
    durable = count / _timed(run_durable, data, repeats)
    raw = count / _timed(run_raw, data, repeats)
    plain = count / _timed(run_engine, data, repeats)
    memory = month_rss(40_000 if smoke else 30 * READINGS_PER_DAY)
    return [
        *(
            figure(
                f"{ROLE_NAMES[role]} resident memory after a simulated month at 86,400x",
                end,
                begin,
                "the same process at the start",
                "MB",
                "<= start + 10 %",
                end <= 1.1 * begin,
            )
            for role, (begin, end) in memory.items()
        ),
        figure(
            "SD-card writes per simulated day (one fridge, two sensors, defaults)",
            ours,
            before,
            "a commit every 2 s batch, 4 KiB pages, no spool",
            "MB/day",
            f"< {TARGET_MB_PER_DAY:g} MB/day",
            ours < TARGET_MB_PER_DAY,
        ),
        figure(
            "Ingest with durability on: spool, commit with heartbeat, batches of 1,000",
            durable,
            raw,
            "sqlite3 executemany",
            "readings/s",
            "ratio >= 0.5",
            durable >= 0.5 * raw,
        ),
        figure(
            "Ingest with durability on, against the engine alone",
            durable,
            plain,
            "Engine.ingest without spool or heartbeat",
            "readings/s",
            "ratio >= 0.8 (the spool's cost)",
            durable >= 0.8 * plain,
        ),
    ]
