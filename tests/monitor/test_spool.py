"""The spool: readings between commits survive a crash, exactly, and come back through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_bridge.service import replay_spool
from hardware.clock import ManualClock
from monitor.config import Settings
from monitor.engine import LightReading, SensorFault, TemperatureReading
from monitor.integrity import check_database
from monitor.profiles import Catalog
from monitor.store import readings, sites
from monitor.store.database import PAGE_SIZE_BYTES
from monitor.store.spool import Spool, read_spool
from tests.monitor.test_engine import open_engine, simulated_loop


def test_round_trip_is_exact(tmp_path: Path) -> None:
    """Every field comes back bit for bit, a fault's free text included."""
    light = [LightReading("lux", 1_767_225_600.123456789, 0.1 + 0.2, True, (36863, 12), 9876.0, 600.0)]
    temp = [TemperatureReading("temp", 1_767_225_601.5, -0.0625, None)]
    faults = [SensorFault("lux", 1_767_225_602.0, "unavailable", 'NACK, "0x29"\nretrying')]
    spool = Spool(tmp_path / "s.spool")
    spool.append(light, temp, faults)
    spool.append([LightReading("lux", 1_767_225_603.0, 5.0)])
    spool.close()
    replay = read_spool(tmp_path / "s.spool")
    assert replay.torn_lines == 0
    assert replay.batch.light == [*light, LightReading("lux", 1_767_225_603.0, 5.0)]
    assert replay.batch.temperature == temp
    assert replay.batch.faults == faults


def test_a_torn_last_line_is_skipped_and_counted(tmp_path: Path) -> None:
    """A write cut short by a power cut loses that line only."""
    path = tmp_path / "s.spool"
    spool = Spool(path)
    spool.append([LightReading("lux", 1.0, 5.0)])
    spool.append([LightReading("lux", 2.0, 6.0)])
    spool.close()
    path.write_bytes(path.read_bytes()[:-7])
    replay = read_spool(path)
    assert replay.torn_lines == 1
    assert [r.ts for r in replay.batch.light] == [1.0]


def test_clear_empties_and_appends_continue(tmp_path: Path) -> None:
    """After a commit the spool is emptied; later appends start a fresh file."""
    path = tmp_path / "s.spool"
    spool = Spool(path)
    spool.append([LightReading("lux", 1.0, 5.0)])
    spool.clear()
    assert path.stat().st_size == 0
    spool.append([LightReading("lux", 2.0, 6.0)])
    spool.close()
    assert [r.ts for r in read_spool(path).batch.light] == [2.0]


def test_a_missing_spool_is_empty(tmp_path: Path) -> None:
    """No spool file (a clean stop removed it): nothing to replay."""
    assert len(read_spool(tmp_path / "none.spool").batch) == 0


def test_readings_between_commits_are_recovered_after_a_crash(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Spooled every 2 s, committed every 30 s: killed at 28 s, the next start recovers all before 28 s."""
    conn, engine = open_engine(settings, catalog, clock)
    assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE_BYTES
    spool_path = Spool.beside(settings.db_path)
    spool = Spool(spool_path)
    loop = simulated_loop(settings, clock, engine, 2.0, commit_seconds=30.0, spool=spool)
    t0 = clock.wall()
    for _ in range(29):  # 0 .. 28 s; the first poll is committed at once, then spooled at 1, 3, .. 27 s
        loop.poll_once()
        if loop.due_for_flush():
            loop.flush()
        elif loop.due_for_spool():
            loop.write_spool()
        clock.advance(1.0)
    lux = sites.sensor_by_key(conn, "fridge-1-lux")
    assert readings.count(conn, lux) == 1
    spool.close()
    conn.close()  # killed: the reading at 28 s, in memory only, is gone

    conn, engine = open_engine(settings, catalog, clock)
    replay_spool(engine, spool_path, clock.wall())
    assert not spool_path.exists()
    lux = sites.sensor_by_key(conn, "fridge-1-lux")
    assert [ts - t0 for ts, _ in readings.series(conn, lux, t0, t0 + 60)] == [float(s) for s in range(28)]
    assert check_database(conn).problems == []


@pytest.mark.parametrize("commit_seconds", [None, 2.0], ids=["no-commit-window", "equal-to-batch"])
def test_without_a_longer_commit_window_every_batch_commits(
    settings: Settings, catalog: Catalog, clock: ManualClock, commit_seconds: float | None
) -> None:
    """No spool, or a commit window no longer than the batch: the loop commits every batch window."""
    _, engine = open_engine(settings, catalog, clock)
    loop = simulated_loop(settings, clock, engine, 2.0, commit_seconds=commit_seconds)
    assert loop.commit_seconds == 2.0
    assert not loop.due_for_spool()
