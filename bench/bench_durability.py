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
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from bench.bench_ingest import T0, _settings, _timed, batches, run_engine, run_raw
from bench.harness import Figure, figure
from firmware_bridge.acquisition import AcquisitionLoop, SampleTime
from firmware_bridge.sensors import build_fridge, build_simulated_sensors
from hardware.clock import ManualClock
from monitor.engine import Batch, Engine
from monitor.profiles import load_catalog
from monitor.rules import default_rules
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store.health import Heartbeat
from monitor.store.spool import Spool

DAY_SECONDS = 86_400.0
TARGET_MB_PER_DAY = 50.0


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
            batch_seconds=bridge.batch_seconds,
            commit_seconds=bridge.commit_seconds if spool else None,
            spool=Spool(Spool.beside(settings.db_path)) if spool else None,
            stamp_at_due_time=True,
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
        spool.append(batch.light, batch.temperature, batch.faults)
        now = batch.light[-1].ts
        engine.ingest(batch, now, Heartbeat(1, now, now, engine.readings_total))
        spool.clear()
    spool.close()
    conn.close()


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
    return [
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
