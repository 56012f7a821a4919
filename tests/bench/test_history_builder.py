"""The benchmarks' bulk history writer leaves the rows the engine and retention would have left."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import history
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.engine import Engine
from monitor.model.profiles import Catalog, load_catalog
from monitor.site_sync import sync_site
from monitor.store import Database, retention

DAYS = 3.05  # past the first restart gap, at three days
KEEP_DAYS = 1.0


def _through_the_engine(path: Path, catalog: Catalog) -> sqlite3.Connection:
    """The same readings pushed an hour at a time through the engine, then retention run at the end."""
    settings = history.settings_for(path)
    db = Database(path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, history.T0)
    seconds = int(DAYS * 86_400)
    light_t, lux = history.light_series(seconds)
    temp_t, celsius = history.temperature_series(seconds)
    engine = Engine(conn, catalog, ())
    for hour in range(0, seconds, 3600):
        lo, hi = history.FIRST_READING + hour, history.FIRST_READING + hour + 3600
        light = [
            LightReading("fridge-1-lux", t, v)
            for t, v in zip(light_t.tolist(), lux.tolist(), strict=True)
            if lo <= t < hi
        ]
        temperature = [
            TemperatureReading("fridge-1-temp", t, v)
            for t, v in zip(temp_t.tolist(), celsius.tolist(), strict=True)
            if lo <= t < hi
        ]
        engine.ingest(Batch(light=light, temperature=temperature), hi)
    retention.downsample(conn, history.FIRST_READING + seconds - KEEP_DAYS * 86_400)
    conn.commit()
    return conn


QUERIES = {
    "light": "SELECT sensor_id, ts, lux, saturated, cum_lux_hours FROM light_readings ORDER BY sensor_id, ts",
    "temperature": "SELECT sensor_id, ts, celsius, cum_equivalent_hours FROM temperature_readings"
    " ORDER BY sensor_id, ts",
    "gaps": "SELECT sensor_id, start_ts, end_ts, reason FROM gaps ORDER BY sensor_id, start_ts",
    "hours": "SELECT sensor_id, hour_ts, max_lux FROM light_hour_maxima ORDER BY sensor_id, hour_ts",
    "minutes": "SELECT * FROM minute_aggregates ORDER BY sensor_id, minute_ts",
}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sqlite3.Connection, sqlite3.Connection]]:
    """The same three days written in bulk and through the engine (built once: it takes a while)."""
    folder = tmp_path_factory.mktemp("history")
    catalog = load_catalog()
    history.build(folder / "bulk.db", catalog, DAYS, 0, raw_retention_days=KEEP_DAYS)
    bulk = Database(folder / "bulk.db").connect()
    engine = _through_the_engine(folder / "engine.db", catalog)
    yield bulk, engine
    bulk.close()
    engine.close()


@pytest.mark.parametrize("table", sorted(QUERIES))
def test_bulk_history_equals_the_engines(
    both: tuple[sqlite3.Connection, sqlite3.Connection], table: str
) -> None:
    """Readings with their ledger, gaps, hourly maxima and minute aggregates: the engine's, to rounding."""
    bulk, engine = both
    want = engine.execute(QUERIES[table]).fetchall()
    got = bulk.execute(QUERIES[table]).fetchall()
    assert len(got) == len(want)
    assert len(got) > 0
    for g, w in zip(got, want, strict=True):
        numbers = [(a, b) for a, b in zip(g, w, strict=True) if not isinstance(b, str)]
        assert [a for a, _ in numbers] == pytest.approx([b for _, b in numbers], rel=1e-9, abs=1e-9)
        assert [a for a in g if isinstance(a, str)] == [b for b in w if isinstance(b, str)]
