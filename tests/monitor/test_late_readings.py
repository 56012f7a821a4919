"""Readings that arrive late and readings known lost: the ledger from that instant on is integrated again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, DataGap, LightReading
from monitor.config import Settings
from monitor.engine import Engine
from monitor.model.profiles import Catalog
from monitor.site_sync import sync_site
from monitor.store import Database, readings, sites

T0 = 1_767_225_600.0
KEY = "fridge-1-lux"


def open_engine(settings: Settings, catalog: Catalog, path: Path) -> tuple[sqlite3.Connection, Engine]:
    db = Database(path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, T0 - 10)
    return conn, Engine(conn, catalog, default_rules(settings.rules.thresholds()))


def lights(seconds: list[int], lux: float = 100.0) -> Batch:
    return Batch(light=[LightReading(KEY, T0 + s, lux) for s in seconds])


def cum_at_end(conn: sqlite3.Connection) -> float:
    sensor = next(s for s in sites.list_sensors(conn) if s.key == KEY)
    tail = readings.tail(conn, sensor)
    assert tail is not None
    return tail.cumulative


def gap_rows(conn: sqlite3.Connection) -> list[tuple[float, float, str]]:
    rows = conn.execute("SELECT start_ts - ?, end_ts - ?, reason FROM gaps ORDER BY start_ts", (T0, T0))
    return [(float(a), float(b), str(r)) for a, b, r in rows.fetchall()]


def all_cumulative(conn: sqlite3.Connection) -> list[float]:
    rows = conn.execute("SELECT ts - ?, cum_lux_hours FROM light_readings ORDER BY ts", (T0,)).fetchall()
    return [float(x) for row in rows for x in row]


def test_late_readings_fill_a_gap_and_give_the_in_order_ledger(
    settings: Settings, catalog: Catalog, tmp_path: Path, clock: ManualClock
) -> None:
    """Readings 5-14 s arriving after 0-4 and 15-30: same ledger as in order, and the gap is gone."""
    conn, engine = open_engine(settings, catalog, tmp_path / "late.db")
    engine.ingest(lights([*range(5), *range(15, 31)]), T0 + 31)
    assert [g[:2] for g in gap_rows(conn)] == [(4.0, 15.0)]
    result = engine.ingest(lights(list(range(5, 15))), T0 + 32)
    assert result.stored == 10
    ref_conn, ref = open_engine(settings, catalog, tmp_path / "in-order.db")
    ref.ingest(lights(list(range(31))), T0 + 31)
    assert all_cumulative(conn) == pytest.approx(all_cumulative(ref_conn))
    assert cum_at_end(conn) == pytest.approx(100.0 * 30 / 3600)
    assert gap_rows(conn) == []


def test_late_reading_then_new_ones_continue_from_the_rewritten_tail(
    settings: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    """After a rewrite the next in-order batch continues from the corrected ledger."""
    conn, engine = open_engine(settings, catalog, tmp_path / "v.db")
    engine.ingest(lights([0, 1, 2, 4, 5]), T0 + 6)
    engine.ingest(lights([3], lux=1000.0), T0 + 7)
    engine.ingest(lights([6, 7]), T0 + 8)
    # 0-2: 200 lx·s; 2-3 and 3-4: 550 each; 4-7: 300; all over 3600.
    assert cum_at_end(conn) == pytest.approx((200 + 1100 + 300) / 3600)


def test_a_replayed_batch_is_not_stored_twice(settings: Settings, catalog: Catalog, tmp_path: Path) -> None:
    """The same readings again add no rows and leave the ledger as it was."""
    conn, engine = open_engine(settings, catalog, tmp_path / "v.db")
    engine.ingest(lights(list(range(10))), T0 + 10)
    before = all_cumulative(conn)
    result = engine.ingest(lights(list(range(10))), T0 + 11)
    assert result.stored == 0
    assert all_cumulative(conn) == before


def test_known_lost_readings_are_a_gap_the_ledger_adds_nothing_across(
    settings: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    """A gap of lost frames over 5.5-7.5 s, reported after the readings: the 3 s overlapping it count 0."""
    conn, engine = open_engine(settings, catalog, tmp_path / "v.db")
    engine.ingest(lights(list(range(21))), T0 + 21)
    assert cum_at_end(conn) == pytest.approx(100.0 * 20 / 3600)
    engine.ingest(Batch(gaps=[DataGap(KEY, T0 + 5.5, T0 + 7.5, "lost frames 9-10")]), T0 + 22)
    assert cum_at_end(conn) == pytest.approx(100.0 * 17 / 3600)
    assert gap_rows(conn) == [(5.5, 7.5, "lost frames 9-10")]
    engine.ingest(lights([21, 22]), T0 + 23)
    assert cum_at_end(conn) == pytest.approx(100.0 * 19 / 3600)


def test_known_gap_ahead_of_the_tail_applies_to_readings_after_it(
    settings: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    """A gap reported before the readings around it arrive: the interval across it still counts 0."""
    conn, engine = open_engine(settings, catalog, tmp_path / "v.db")
    engine.ingest(lights(list(range(3))), T0 + 3)
    engine.ingest(Batch(gaps=[DataGap(KEY, T0 + 3.2, T0 + 3.8, "lost frames 4-4")]), T0 + 4)
    engine.ingest(lights([3, 4, 5]), T0 + 6)
    # 0-2 and 4-5 count: 3 s; 2-3 and 3-4 overlap the gap? 3-4 does (3.2-3.8), 2-3 does not.
    assert cum_at_end(conn) == pytest.approx(100.0 * 4 / 3600)
    sensor = next(s for s in sites.list_sensors(conn) if s.key == KEY)
    inside = readings.cumulative_at(conn, sensor, T0 + 3.5)
    assert inside == pytest.approx(readings.cumulative_at(conn, sensor, T0 + 3.0))
