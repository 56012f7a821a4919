"""Ingest pipeline: readings per second through the store, ledger and rules (``Engine.ingest``).

Workload: a back-fill of 1 Hz lux and 0.1 Hz temperature readings for one fridge, in batches of 1,000
lux readings (a buffered microcontroller or a restarted bridge catching up). Baseline in the same run:
plain ``sqlite3`` ``executemany`` of the same rows, ``(ts, sensor, value)``, into a WAL database with the
same pragmas, one transaction per batch. A second baseline stores exactly the rows vialguard stores (eight
columns, with raw counts, gain and integration time, into the same ``WITHOUT ROWID`` tables keyed by sensor
and time): the gap between it and the first is the schema's cost, the gap between vialguard and it is the
pipeline's (ledger, rules, statuses). Serial frame parsing joins this figure with the serial bridge.
"""

from __future__ import annotations

import sqlite3
import tempfile
import tomllib
from importlib import resources
from pathlib import Path

from bench.harness import Figure, figure, median_time
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.model.profiles import load_catalog
from monitor.site_sync import sync_site
from monitor.store import Database

T0 = 1_767_225_600.0
BATCH = 1_000


def batches(seconds: int) -> list[Batch]:
    out = []
    for start in range(0, seconds, BATCH):
        light = [
            # As the TSL2591 driver reports them: both channels' counts, gain and integration time.
            LightReading("fridge-1-lux", T0 + s, lux, False, (int(lux * 40), int(lux * 9)), 428.0, 200.0)
            for s in range(start, min(start + BATCH, seconds))
            for lux in (600.0 if s % 8640 < 60 else 0.0,)
        ]
        temp = [
            TemperatureReading("fridge-1-temp", T0 + s, 4.0 + (s % 1800) / 900.0)
            for s in range(start, min(start + BATCH, seconds), 10)
        ]
        out.append(Batch(light=light, temperature=temp))
    return out


def _settings(directory: Path) -> Settings:
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    return parse_settings(tomllib.loads(text), "simulated.toml", {"db_path": directory / "v.db"})


def run_engine(data: list[Batch], directory: Path) -> None:
    settings = _settings(directory)
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, T0)
    engine = Engine(conn, load_catalog(), default_rules(settings.rules.thresholds()))
    for batch in data:
        engine.ingest(batch, batch.light[-1].ts)
    conn.close()


def run_raw(data: list[Batch], directory: Path) -> None:
    conn = sqlite3.connect(directory / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE readings (ts REAL, sensor INTEGER, value REAL)")
    for batch in data:
        rows = [(r.ts, 1, r.lux) for r in batch.light] + [(r.ts, 2, r.celsius) for r in batch.temperature]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO readings VALUES (?, ?, ?)", rows)
        conn.execute("COMMIT")
    conn.close()


def run_same_rows(data: list[Batch], directory: Path) -> None:
    """``executemany`` of exactly the rows vialguard stores, into its own tables: the storage floor."""
    settings = _settings(directory)
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, T0)
    ids = dict(conn.execute("SELECT key, id FROM sensors").fetchall())
    for batch in data:
        light = [
            (
                ids[r.sensor_key],
                r.ts,
                r.lux,
                r.saturated,
                str(list(r.raw_counts)),
                r.gain,
                r.integration_ms,
                0.0,
            )
            for r in batch.light
        ]
        temp = [(ids[r.sensor_key], r.ts, r.celsius, None, 0.0) for r in batch.temperature]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO light_readings VALUES (?, ?, ?, ?, ?, ?, ?, ?)", light)
        conn.executemany("INSERT INTO temperature_readings VALUES (?, ?, ?, ?, ?)", temp)
        conn.execute("COMMIT")
    conn.close()


def _timed(fn: object, data: list[Batch], repeats: int) -> float:
    def once() -> None:
        with tempfile.TemporaryDirectory() as d:
            fn(data, Path(d))  # type: ignore[operator]

    return median_time(once, repeats)


def run(smoke: bool) -> list[Figure]:
    seconds = 20_000 if smoke else 200_000
    repeats = 1 if smoke else 3
    data = batches(seconds)
    count = sum(len(b) for b in data)
    ours = count / _timed(run_engine, data, repeats)
    raw = count / _timed(run_raw, data, repeats)
    same = count / _timed(run_same_rows, data, repeats)
    return [
        figure(
            "Ingest: store + ledger + rules, batches of 1,000",
            ours,
            raw,
            "sqlite3 executemany",
            "readings/s",
            "ratio >= 0.5",
            ours >= 0.5 * raw,
        ),
        figure(
            "Ingest: the same, against storing its exact rows",
            ours,
            same,
            "executemany of the stored rows, same tables",
            "readings/s",
            "reported (pipeline overhead)",
            True,
        ),
    ]
