"""The host's serial source with the firmware in the loop over a real pseudo-terminal, on a manual clock."""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_bridge import frames
from firmware_bridge.sensors import check_drivers
from hardware.timesync import ManualTimeSync
from monitor.errors import ConfigError
from monitor.store import serial_links
from tests.firmware_bridge.serial_rig import Rig, serial_settings


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


def assert_every_seq_once(rig: Rig, boot: str = "00000001") -> list[int]:
    seqs = [s for b, s in rig.frames_stored() if b == boot]
    assert seqs == list(range(1, len(seqs) + 1))
    return seqs


def test_steady_stream_stores_every_frame_once_at_the_right_time(rig: Rig) -> None:
    """A minute of streaming: every sequence number stored once, readings dated on the wall clock."""
    start = rig.clock.wall()
    rig.run(60.0)
    seqs = assert_every_seq_once(rig)
    assert len(seqs) >= 64
    times = rig.light_times()
    assert len(times) >= 59
    assert times[0] == pytest.approx(start, abs=0.3)
    assert times[1] - times[0] == pytest.approx(1.0, abs=1e-3)
    assert rig.device.ring.oldest >= seqs[-1] - 2  # acked: the device holds almost nothing


def test_garbage_on_the_line_costs_no_reading(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """Noise, a bad CRC, an overlong run and an unknown version: counted, logged once each, nothing lost."""
    rig.run(5.0)
    with caplog.at_level(logging.WARNING, logger="firmware_bridge.serial_source"):
        for _ in range(3):
            rig.inject(b"\x00\xffnoise\n")
            rig.inject(b"$1,T,e6614103e7,00000001,1,1,1,1,1,4.0,*0000\n")
            rig.inject(b"Z" * 5000 + b"\n")
            rig.inject(frames.encode_fields(["7", "L", "x"]))
            rig.inject(b"$1,L,e6614103e7,00000001,5,1\n")  # a frame cut off by a reset
            rig.run(2.0)
    rig.run(5.0)
    assert_every_seq_once(rig)
    kinds = ("noise", "checksum", "overlong", "version", "truncated")
    assert {k: rig.source.counts[k] for k in kinds} == dict.fromkeys(kinds, 3)
    rejected = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected) <= 5 * 3
    assert len(rig.light_times()) == 16  # one a second, none lost


def test_refused_input_is_committed_by_port_and_kind_and_adds_up_over_restarts(rig: Rig) -> None:
    """Counts of what the host refused go into the database with the readings (for the API and /metrics),
    and a restarted host adds to them instead of starting again from zero."""
    rig.run(3.0)
    for _ in range(2):
        rig.inject(b"\x00\xffnoise\n")
        rig.inject(b"$1,T,e6614103e7,00000001,1,1,1,1,1,4.0,*0000\n")
        rig.run(3.0)
    rig.stop_host()
    rig.start_host()
    rig.run(2.0)  # the new host has opened the port and heard the board again
    rig.inject(b"\x00\xffnoise\n")
    rig.run(3.0)
    assert rig.conn is not None
    url = rig.source.config.url
    got = {(r.port, r.kind): r.count for r in serial_links.list_rejects(rig.conn)}
    assert got[(url, "noise")] == 3
    assert got[(url, "checksum")] == 2
    assert (url, "stored") not in got  # the readings themselves are counted by what is stored
    assert_every_seq_once(rig)


def test_a_megabyte_of_garbage_costs_no_reading(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """A flood of random bytes while the device streams: no crash, a handful of log lines, nothing lost."""
    rng = random.Random(4)
    rig.run(5.0)
    with caplog.at_level(logging.WARNING, logger="firmware_bridge.serial_source"):
        for _ in range(256):
            rig.inject(rng.randbytes(4096), partial=True)
            rig._await_delivery()
            rig.loop.poll_once()
        rig.run(15.0)
    assert_every_seq_once(rig)
    assert sum(rig.source.counts[k] for k in ("noise", "checksum", "overlong", "truncated")) > 100
    assert len(caplog.records) < 20  # logged when a kind first appears, not once per bad line
    assert len(rig.light_times()) == 20  # one a second, none lost


@pytest.mark.parametrize(
    ("seq_ahead", "uptime_ms", "why"),
    [
        (10**9, 30_000, "beyond the"),
        (50, 100_000_000, "ahead of the host's clock"),
    ],
    ids=["sequence-number-far-ahead", "counter-a-day-ahead"],
)
def test_frame_whose_numbers_cannot_be_true_is_refused(
    rig: Rig, caplog: pytest.LogCaptureFixture, seq_ahead: int, uptime_ms: int, why: str
) -> None:
    """A frame with a good CRC but an impossible number: refused and counted; no gap announced, no
    reading moved in time, nothing freed on the device."""
    rig.run(30.0)
    seq = rig.device.ring.next_seq + seq_ahead
    forged = frames.LightData(
        "e6614103e7", "00000001", seq, uptime_ms, seq, 0, uptime_ms, 5.0, False, 1.0, 100.0, (1, 1)
    )
    with caplog.at_level(logging.WARNING, logger="firmware_bridge.serial_source"):
        rig.inject(forged.encode())
        rig.run(30.0)
    assert rig.source.counts["implausible"] == 1
    assert any(why in r.getMessage() for r in caplog.records)
    assert_every_seq_once(rig)
    assert rig.gaps() == []
    times = rig.light_times()
    assert len(times) == 60
    assert all(b - a == pytest.approx(1.0, abs=1e-3) for a, b in itertools.pairwise(times))


@pytest.mark.parametrize("step", [3600.0, -3600.0], ids=["host-clock-forward-an-hour", "back-an-hour"])
def test_a_step_of_the_hosts_clock_is_followed(
    rig: Rig, caplog: pytest.LogCaptureFixture, step: float
) -> None:
    """NTP steps the host's clock: from the next frame on the device's readings are dated on the new clock
    (none left on the old one for the seconds it would take frames to vote for the step), and none is
    lost or stored twice."""
    rig.run(30.0)
    rig.clock.step_wall(step)
    stepped = rig.clock.wall()
    with caplog.at_level(logging.WARNING, logger="firmware_bridge.serial_source"):
        rig.run(30.0)
    assert_every_seq_once(rig)
    after = [t for t in rig.light_times() if stepped - 1.0 <= t <= stepped + 31.0]
    assert len(after) == 30
    conn = rig.db()
    try:
        newest = conn.execute("SELECT ts FROM serial_frames ORDER BY seq DESC LIMIT 1").fetchone()[0]
    finally:
        conn.close()
    assert newest == pytest.approx(rig.clock.wall(), abs=1.5)
    assert len(rig.light_times()) == 60
    assert any("the host's clock stepped by" in r.getMessage() for r in caplog.records)


def test_frames_held_for_an_unsynchronised_clock_are_restamped_with_their_frame_records(
    tmp_path: Path,
) -> None:
    """The Pi boots three hours slow and holds the device's readings; NTP steps the clock and confirms it.
    The held readings, their frame records and what comes after are all dated on the true clock."""
    sync = ManualTimeSync(synchronised=False)
    rig = Rig(tmp_path, time_sync=sync)
    try:
        rig.run(20.0)
        assert rig.frames_stored() == []  # held
        rig.clock.step_wall(3 * 3600.0)
        rig.run(5.0)
        sync.state = True
        rig.run(10.0)
        rig.loop.flush()
        seqs = assert_every_seq_once(rig)
        assert len(seqs) >= 35 * 1.1 - 3
        readings, frame_times = rig.reading_and_frame_times()
        assert readings == frame_times
        true_start = rig.clock.wall() - 35.0
        assert readings[0] == pytest.approx(true_start, abs=0.5)
        light = rig.light_times()
        assert len(light) == 35
        assert all(0.99 < b - a < 1.01 for a, b in itertools.pairwise(light))  # one a second, no hole
    finally:
        rig.close()


def test_a_store_failure_withholds_the_ack_until_the_frames_commit(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """The database locked by another writer for 20 s: batches fail and stay in memory, the device frees
    nothing meanwhile; once the lock goes, every frame is stored once and only then acknowledged."""
    rig.run(10.0)
    acked = max(s for _, s in rig.frames_stored())
    assert rig.conn is not None
    rig.conn.execute("PRAGMA busy_timeout = 0")  # fail at once instead of waiting 10 real seconds
    blocker = rig.db()
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with caplog.at_level(logging.ERROR, logger="firmware_bridge.acquisition"):
            rig.run(20.0)
        assert any("kept in memory for retry" in r.getMessage() for r in caplog.records)
        assert max(s for _, s in rig.frames_stored()) == acked  # nothing new committed ...
        assert rig.device.ring.oldest <= acked + 1  # ... so nothing new freed on the device
        assert len(rig.device.ring) >= 20
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    rig.run(10.0)
    assert_every_seq_once(rig)
    assert rig.gaps() == []
    assert len(rig.light_times()) == 40
    assert len(rig.device.ring) <= 2


def test_frame_lost_in_transit_is_sent_again_and_fills_the_ledger(rig: Rig) -> None:
    """A frame dropped on the cable: later ones are stored, the device resends it, no gap remains."""
    rig.cable.drop_writes = {5}
    rig.run(30.0)
    assert_every_seq_once(rig)
    times = rig.light_times()
    assert all(b - a == pytest.approx(1.0, abs=1e-3) for a, b in itertools.pairwise(times))
    assert rig.gaps() == []


@pytest.mark.parametrize("seed", [1, 2, 3], ids=lambda s: f"seed-{s}")
def test_a_lossy_cable_costs_no_reading(rig: Rig, seed: int) -> None:
    """One write in ten lost on the way (hellos and readings alike): later frames arrive first, the lost
    ones come again, and in the end every number is stored once, the ledger whole, no gap."""
    rng = random.Random(seed)
    rig.cable.drop_writes = {n for n in range(2, 400) if rng.random() < 0.1}
    rig.room.lux = 50.0
    rig.run(60.0)
    rig.cable.drop_writes = set()
    rig.run(15.0)
    assert_every_seq_once(rig)
    assert rig.gaps() == []
    times = rig.light_times()
    assert len(times) == 75
    assert all(b - a == pytest.approx(1.0, abs=1e-3) for a, b in itertools.pairwise(times))
    conn = rig.db()
    try:
        dose = conn.execute("SELECT MAX(cum_lux_hours) FROM light_readings").fetchone()[0]
    finally:
        conn.close()
    assert dose == pytest.approx(50.0 * 74 / 3600.0, rel=0.02)  # late readings rewrote the ledger


def test_unplug_and_replug_delivers_the_buffered_readings(rig: Rig) -> None:
    """Unplugged for two minutes: the readings taken meanwhile arrive after the replug, none twice."""
    rig.run(10.0)
    rig.unplug()
    rig.run(120.0)
    assert not rig.source.link.is_open
    rig.replug()
    rig.run(10.0)
    seqs = assert_every_seq_once(rig)
    assert len(seqs) >= 140 * 1.1 - 3
    times = rig.light_times()
    assert len(times) >= 138
    assert all(b - a == pytest.approx(1.0, abs=1e-3) for a, b in itertools.pairwise(times))
    assert rig.gaps() == []


def test_buffer_overflow_while_unplugged_is_a_recorded_gap(tmp_path: Path) -> None:
    """With room for 32 records, 2 minutes unplugged loses frames: they become a gap on both sensors."""
    rig = Rig(tmp_path, capacity=32)
    try:
        rig.run(10.0)
        rig.unplug()
        rig.run(120.0)
        rig.replug()
        rig.run(10.0)
        seqs = [s for _, s in rig.frames_stored()]
        assert seqs == sorted(set(seqs))
        lost = [g for g in rig.gaps() if g[2].startswith("lost frames")]
        assert len(lost) == 2  # one per sensor
        assert rig.source.counts["lost"] > 90
        start, end, _ = lost[0]
        assert end - start > 90
    finally:
        rig.close()


def test_device_reboot_is_a_new_boot_and_time_stays_right(rig: Rig) -> None:
    """A reboot restarts the counter and the numbering: a new boot id, readings still on the wall clock."""
    rig.run(20.0)
    rig.reboot()
    rebooted_at = rig.clock.wall()
    rig.run(20.0)
    boots = {b for b, _ in rig.frames_stored()}
    assert boots == {"00000001", "00000002"}
    assert_every_seq_once(rig, "00000001")
    assert_every_seq_once(rig, "00000002")
    assert list(rig.source._boots) == [("e6614103e7", "00000002")]  # the old boot is forgotten
    times = rig.light_times()
    after = [t for t in times if t >= rebooted_at - 0.5]
    assert after[0] == pytest.approx(rebooted_at, abs=0.3)
    assert times == sorted(times)


def test_host_restart_replays_the_backlog_without_duplicates(rig: Rig) -> None:
    """The host crashes with a batch in memory and comes back: every frame stored exactly once."""
    rig.run(20.0)
    rig.loop.poll_once()
    rig.stop_host(flush=False)
    rig.run(30.0, host=False)
    rig.start_host()
    rig.run(15.0)
    seqs = assert_every_seq_once(rig)
    assert len(seqs) >= 65 * 1.1 - 3


def test_a_crash_between_commits_replays_the_spooled_frames_not_only_their_readings(tmp_path: Path) -> None:
    """Spooled every second, committed every ten, the host crashes with frames spooled but not committed.
    Its clock had been set back 0.3 s after the last commit (a correction too small to be a step) and is
    forward again when it restarts, so the frames the device sends again map 0.3 s later than the spooled
    readings. The spool names the frames: they are duplicates, never a second reading of the same light."""
    rig = Rig(tmp_path, commit_seconds=10.0)
    try:
        rig.run(12.0)  # committed at the first poll and at 10 s
        assert rig.frames_stored()
        rig.clock.step_wall(-0.3)
        rig.run(6.0)  # spooled, not committed
        assert rig.spool is not None
        assert rig.spool.path.stat().st_size > 0
        rig.stop_host(flush=False)
        rig.clock.step_wall(0.3)
        rig.run(3.0, host=False)
        rig.start_host()
        rig.run(15.0)
        rig.loop.flush()
        seqs = assert_every_seq_once(rig)
        assert len(seqs) >= 36 * 1.1 - 3
        readings, frame_times = rig.reading_and_frame_times()
        assert readings == frame_times
        light = rig.light_times()
        assert min(b - a for a, b in itertools.pairwise(light)) > 0.5  # one a second, none twice
    finally:
        rig.close()


def test_counter_wrap_keeps_time_monotonic(tmp_path: Path) -> None:
    """A 16-bit counter wraps twice in 150 s: readings stay 1 s apart on the wall clock."""
    rig = Rig(tmp_path, wrap_bits=16)
    try:
        rig.run(150.0)
        times = rig.light_times()
        assert len(times) >= 149
        assert all(b - a == pytest.approx(1.0, abs=1e-3) for a, b in itertools.pairwise(times))
    finally:
        rig.close()


def test_another_device_on_the_port_is_refused_without_asking_it_again(rig: Rig) -> None:
    """A bridge configured for one board hears another: nothing stored, counted, and no query that would
    make it send its whole buffer again and again."""
    rig.stop_host()
    bridge = rig.settings.bridge
    only = bridge.serial[0].model_copy(update={"device_id": "0123456789"})
    rig.settings = rig.settings.model_copy(update={"bridge": bridge.model_copy(update={"serial": [only]})})
    rig.start_host()
    rig.run(30.0)
    assert rig.cable.hellos <= 2  # at boot, and for the one query sent when the port opened
    assert rig.frames_stored() == []
    assert rig.source.counts["before-hello"] == 0
    assert rig.source.counts["other-device"] >= 33  # its hello and every reading: counted, not stored


def test_frames_before_a_hello_are_queried_not_stored(rig: Rig) -> None:
    """A host that missed the hello asks for one; the readings arrive once it has the inventory."""
    rig.run(5.0)
    rig.stop_host()
    rig.run(3.0, host=False)
    rig.start_host()
    rig.source._splitter.feed(b"")
    rig.run(10.0)
    assert_every_seq_once(rig)


def test_serial_sensor_without_a_serial_source_fails_naming_the_key(tmp_path: Path) -> None:
    """driver = "serial" with no [[bridge.serial]] is a config error naming the sensor."""
    settings = serial_settings(tmp_path, "/dev/ttyACM0")
    bare = settings.model_copy(update={"bridge": settings.bridge.model_copy(update={"serial": []})})
    with pytest.raises(ConfigError, match=r"sensors\[0\]\.driver: 'serial' needs a serial source"):
        check_drivers(bare, simulate=False)


def test_empty_serial_url_is_rejected_at_load(tmp_path: Path) -> None:
    """An empty url fails naming bridge.serial[0].url."""
    with pytest.raises(ConfigError, match=r"bridge\.serial\[0\]\.url"):
        serial_settings(tmp_path, "")


def fired_rules(rig: Rig) -> dict[str, float]:
    """Alerts fired so far (any state but pending), by rule, with the time each episode started."""
    conn = rig.db()
    try:
        rows = conn.execute("SELECT rule, started_ts FROM alerts WHERE fired_ts IS NOT NULL").fetchall()
    finally:
        conn.close()
    return {str(r): float(t) for r, t in rows}


def dose_lux_hours(rig: Rig) -> float:
    conn = rig.db()
    try:
        return float(conn.execute("SELECT MAX(cum_lux_hours) FROM light_readings").fetchone()[0])
    finally:
        conn.close()


def test_light_seen_only_by_the_device_buffer_reaches_the_ledger_and_alerts(rig: Rig) -> None:
    """The fridge light on for two minutes while unplugged: after the replug the buffered readings add the
    dose to the ledger and raise the light alert, dated when the light came on."""
    rig.room.lux = 0.0
    rig.run(10.0)
    rig.unplug()
    rig.run(10.0)
    lit_at = rig.clock.wall()
    rig.room.lux = 20_000.0
    rig.run(120.0)
    rig.room.lux = 0.0
    rig.run(10.0)
    assert "light-exposure" not in fired_rules(rig)  # the host has heard nothing of it yet
    rig.replug()
    rig.run(40.0)
    assert fired_rules(rig)["light-exposure"] == pytest.approx(lit_at, abs=1.5)
    assert dose_lux_hours(rig) == pytest.approx(20_000.0 * 120.0 / 3600.0, rel=0.03)
    assert_every_seq_once(rig)
