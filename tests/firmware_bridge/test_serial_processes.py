"""The serial path as deployed: `vialguard firmware-sim` on a pty and `vialguard bridge` reading it by URL,
each its own process; the bridge killed with SIGKILL mid-stream, the cable pulled, both restarted."""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BOOT = "0a1b2c3d"
# Fast sensors so that a few real seconds hold hundreds of frames.
SENSORS = "fridge-1-lux:tsl2591:0x29:50;fridge-1-temp:mcp9808:0x18:250"

SITE = """
site_name = "Serial test site"

[[locations]]
key = "fridge-1"
name = "Pharmacy fridge 1"
kind = "fridge"

[[sensors]]
key = "fridge-1-lux"
location = "fridge-1"
quantity = "light"
driver = "serial"
interval_seconds = 0.05

[[sensors]]
key = "fridge-1-temp"
location = "fridge-1"
quantity = "temperature"
driver = "serial"
interval_seconds = 0.25

[[vials]]
key = "roze-0001"
drug = "mecobalamin"
form = "rozebalamin-25mg"
lot = "RZ24A01"
location = "fridge-1"
packaging = "in-carton"

[bridge]
batch_seconds = 1.0
commit_seconds = 3.0  # spooled every second, committed every third: a kill meets both
# This machine's clock may not be synchronised (a container): store readings as stamped at once.
unsynchronised_hold_seconds = 0.0

[[bridge.serial]]
url = "{url}"
reconnect_seconds = 0.2
"""


class Process:
    """A child process and its merged output, read as it comes (waits are for it, not for a clock)."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vialguard", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        self.fd = self.proc.stdout.fileno()
        self.text = ""

    def _read(self, timeout: float) -> bool:
        if select.select([self.fd], [], [], timeout)[0]:
            chunk = os.read(self.fd, 65536)
            self.text += chunk.decode(errors="replace")
            return bool(chunk)
        return True

    def wait_for(self, needle: str, count: int = 1, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while self.text.count(needle) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"no {needle!r} after {seconds} s:\n{self.text}"
            assert self._read(left), f"exited before {needle!r}:\n{self.text}"

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc.stdout is not None
        if self.proc.stdout.closed:  # stopped already
            return self.proc.wait()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        deadline = time.monotonic() + 30
        while self._read(0.1) and time.monotonic() < deadline:
            pass
        code = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.log.write_text(self.text, encoding="utf-8")
        return code


def frames_stored(db: Path) -> int:
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM serial_frames").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0  # the bridge has not made the schema yet


def wait_stored(db: Path, at_least: int, bridge: Process, seconds: float = 30.0) -> int:
    """Wait until the bridge has committed ``at_least`` frames; the bridge runs on real time."""
    deadline = time.monotonic() + seconds
    while (n := frames_stored(db)) < at_least:
        assert bridge.proc.poll() is None, f"bridge exited:\n{bridge.text}"
        assert time.monotonic() < deadline, f"{n} of {at_least} frames after {seconds} s:\n{bridge.text}"
        time.sleep(0.05)
    return n


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, Path, Process]]:
    link = tmp_path / "ttyACM0"
    config = tmp_path / "site.toml"
    config.write_text(SITE.format(url=link), encoding="utf-8")
    device = Process(
        [
            "firmware-sim",
            "--pty",
            str(link),
            "--sensors",
            SENSORS,
            "--boot-id",
            BOOT,
            "--unplug-seconds",
            "1.5",
        ],
        tmp_path / "firmware-sim.log",
    )
    try:
        device.wait_for("firmware-sim: serial port")
        yield config, tmp_path / "v.db", device
    finally:
        device.stop()


def bridge(config: Path, db: Path, n: int) -> Process:
    return Process(["bridge", "--config", str(config), "--db", str(db)], db.with_name(f"bridge-{n}.log"))


@pytest.mark.slow
def test_sigkill_and_unplug_store_every_sequence_number_exactly_once(
    site: tuple[Path, Path, Process],
) -> None:
    """Bridge SIGKILLed mid-stream three times and restarted, then the cable pulled and replugged: frames
    1..N stored once each, each reading stored once at its own time, and no gap left behind."""
    config, db, device = site
    killed_at = 0
    for run, into_batch in enumerate((0.5, 0.2, 0.8), start=1):
        host = bridge(config, db, run)
        # Seen just after a commit: this far into the next batch window, a batch is in memory.
        wait_stored(db, killed_at + 60, host)
        time.sleep(into_batch)
        assert host.stop(signal.SIGKILL) == -signal.SIGKILL
        killed_at = frames_stored(db)
        time.sleep(0.5)  # the device keeps sampling into its buffer while no host listens
    second = bridge(config, db, 4)
    try:
        wait_stored(db, killed_at + 60, second)
        device.proc.send_signal(signal.SIGUSR1)
        device.wait_for("firmware-sim: unplugged")
        device.wait_for("firmware-sim: serial port", count=2)
        second.wait_for("serial port", count=2)  # opened, lost, opened again
        wait_stored(db, frames_stored(db) + 60, second)
        assert device.stop() == 0
        assert "serial port" in second.text
    finally:
        assert second.stop() == 0, second.text
    stopped = next(line for line in device.text.splitlines() if "stopped after" in line)
    made = int(stopped.split("stopped after ")[1].split()[0])

    conn = sqlite3.connect(db)
    try:
        seqs = [
            s
            for (s,) in conn.execute("SELECT seq FROM serial_frames WHERE boot_id = ? ORDER BY seq", (BOOT,))
        ]
        frame_times = sorted(t for (t,) in conn.execute("SELECT ts FROM serial_frames"))
        reading_times = sorted(
            t
            for (t,) in conn.execute(
                "SELECT ts FROM light_readings UNION ALL SELECT ts FROM temperature_readings"
                " UNION ALL SELECT ts FROM sensor_faults"
            )
        )
        gaps = conn.execute("SELECT reason FROM gaps").fetchall()
    finally:
        conn.close()
    assert seqs == list(range(1, len(seqs) + 1))  # none missing, none twice
    assert len(seqs) >= made - 40  # at most the last moments before the device stopped went unstored
    # One reading per frame, at the frame's time: a replay never stored again under a shifted time.
    assert reading_times == frame_times
    assert gaps == []
