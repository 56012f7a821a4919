"""The spool: readings between commits survive a crash, exactly, and come back through the engine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from firmware_bridge.service import replay_spool
from hardware.clock import ManualClock
from monitor.batch import Batch, DataGap, LightReading, SensorFault, TemperatureReading
from monitor.config import Settings
from monitor.integrity import check_database
from monitor.model.profiles import Catalog
from monitor.model.spectral import SpectralCounts
from monitor.store import readings, sites
from monitor.store.database import PAGE_SIZE_BYTES
from monitor.store.serial_links import BootRecord, FrameKey
from monitor.store.spool import Spool, read_spool
from tests.monitor.test_engine import open_engine, simulated_loop


def test_round_trip_is_exact(tmp_path: Path) -> None:
    """Every field of what a batch commits comes back bit for bit: a fault's free text, a spectral chip's
    channels, gaps, serial frames; each boot's state and the refusal totals as the last line left them."""
    spectrum = SpectralCounts("as7341", ("F1", "clear"), (12, 65535), 128.0, 2.78, True, None)
    light = [
        LightReading("lux", 1_767_225_600.123456789, 0.1 + 0.2, True, (36863, 12), 9876.0, 600.0),
        LightReading("spec", 1_767_225_600.5, 7.25, False, (1, 2), 1.0, 100.0, spectrum),
    ]
    temp = [TemperatureReading("temp", 1_767_225_601.5, -0.0625, None)]
    faults = [SensorFault("lux", 1_767_225_602.0, "unavailable", 'NACK, "0x29"\nretrying')]
    gaps = [DataGap("lux", 1_767_225_590.0, 1_767_225_599.5, "lost frames 4-9 of device d boot b")]
    frames = [FrameKey("d", "b", 10, 1_767_225_600.123456789)]
    boot = BootRecord("d", "b", 1_767_225_000.000123, 10, "1.2.0", 1_767_225_600.2)
    port = "/dev/serial/by-id/usb-x"
    spool = Spool(tmp_path / "s.spool")
    spool.append(
        Batch(
            light=light,
            temperature=temp,
            faults=faults,
            gaps=gaps,
            frames=frames,
            boots={("d", "b"): boot},
            serial_rejects={(port, "noise"): 2},
        )
    )
    later = replace(boot, acked_through=11, last_seen_ts=1_767_225_603.1)
    spool.append(
        Batch(
            light=[LightReading("lux", 1_767_225_603.0, 5.0)],
            frames=[FrameKey("d", "b", 11, 1_767_225_603.0)],
            boots={("d", "b"): later},
            serial_rejects={(port, "noise"): 3, (port, "checksum"): 1},
        )
    )
    spool.close()
    replay = read_spool(tmp_path / "s.spool")
    assert replay.torn_lines == 0
    assert replay.batch.light == [*light, LightReading("lux", 1_767_225_603.0, 5.0)]
    assert replay.batch.temperature == temp
    assert replay.batch.faults == faults
    assert replay.batch.gaps == gaps
    assert replay.batch.frames == [*frames, FrameKey("d", "b", 11, 1_767_225_603.0)]
    assert replay.batch.boots == {("d", "b"): later}
    assert replay.batch.serial_rejects == {(port, "noise"): 3, (port, "checksum"): 1}


def test_a_line_from_before_the_serial_bookkeeping_is_read(tmp_path: Path) -> None:
    """A spool left by the previous version (readings only) is replayed after an upgrade."""
    path = tmp_path / "s.spool"
    path.write_bytes(b'{"l":[["lux",1.5,5.0,false,[3,4],25.0,100.0]],"t":[["temp",2.0,4.0,null]],"f":[]}\n')
    replay = read_spool(path)
    assert replay.torn_lines == 0
    assert replay.batch.light == [LightReading("lux", 1.5, 5.0, False, (3, 4), 25.0, 100.0)]
    assert replay.batch.temperature == [TemperatureReading("temp", 2.0, 4.0, None)]
    assert replay.batch.frames == []
    assert replay.batch.boots == {}


def test_a_torn_last_line_is_skipped_and_counted(tmp_path: Path) -> None:
    """A write cut short by a power cut loses that line only."""
    path = tmp_path / "s.spool"
    spool = Spool(path)
    spool.append(Batch(light=[LightReading("lux", 1.0, 5.0)]))
    spool.append(Batch(light=[LightReading("lux", 2.0, 6.0)]))
    spool.close()
    path.write_bytes(path.read_bytes()[:-7])
    replay = read_spool(path)
    assert replay.torn_lines == 1
    assert [r.ts for r in replay.batch.light] == [1.0]


def test_clear_empties_and_appends_continue(tmp_path: Path) -> None:
    """After a commit the spool is emptied; later appends start a fresh file."""
    path = tmp_path / "s.spool"
    spool = Spool(path)
    spool.append(Batch(light=[LightReading("lux", 1.0, 5.0)]))
    spool.clear()
    assert path.stat().st_size == 0
    spool.append(Batch(light=[LightReading("lux", 2.0, 6.0)]))
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
