"""A test rig: the firmware's code.py on emulated chips, a real pseudo-terminal, the host's serial source
opening it by URL (a symlink, as udev names a USB device), the real acquisition loop and engine on SQLite,
all on one manual clock."""

from __future__ import annotations

import contextlib
import os
import select
import sqlite3
from pathlib import Path
from types import ModuleType

from firmware_bridge.acquisition import AcquisitionLoop, AcquisitionSettings
from firmware_bridge.firmware.device import Device
from firmware_bridge.firmware_sim import PtyPort, emulated_board, load_firmware, point_link
from firmware_bridge.serial_source import SerialSource
from firmware_bridge.service import replay_spool
from hardware.clock import ManualClock
from hardware.environment import Conditions
from hardware.timesync import TimeSync
from monitor.alerts.rules import default_rules
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.model.profiles import load_catalog
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store.spool import Spool
from tests.conftest import simulated_raw

SENSORS = "fridge-1-lux:tsl2591:0x29:1000;fridge-1-temp:mcp9808:0x18:10000"


class Room:
    def __init__(self, lux: float = 100.0, celsius: float = 4.0) -> None:
        self.lux = lux
        self.celsius = celsius

    def conditions(self, wall_seconds: float) -> Conditions:
        return Conditions(lux=self.lux, celsius=self.celsius, ir_fraction=0.1)


def serial_settings(tmp_path: Path, url: str) -> Settings:
    """The shipped simulated site with its two sensors read by a microcontroller on ``url``."""
    raw = simulated_raw()
    for s in raw["sensors"]:
        s["driver"] = "serial"
        s.pop("address", None)
    raw["bridge"] = {"batch_seconds": 1.0, "serial": [{"url": url, "reconnect_seconds": 0.5}]}
    return parse_settings(raw, "site.toml", {"db_path": tmp_path / "vialguard.db"})


class LossyPort:
    """The device's port with a cable that loses chosen frames (by count of writes) on the way."""

    def __init__(self, inner: PtyPort) -> None:
        self.inner = inner
        self.drop_writes: set[int] = set()
        self.writes = 0
        self.hellos = 0
        self.delivered = 0  # writes that reached the pty

    @property
    def connected(self) -> bool:
        return self.inner.connected

    @property
    def in_waiting(self) -> int:
        return self.inner.in_waiting

    def read(self, n: int) -> bytes:
        return self.inner.read(n)

    def write(self, data: bytes) -> int:
        self.writes += 1
        self.hellos += data.startswith(b"$1,H,")
        if self.writes in self.drop_writes:
            return len(data)  # sent, never arrives
        written = self.inner.write(data)
        self.delivered += written > 0
        return written


class Rig:
    def __init__(
        self,
        tmp_path: Path,
        *,
        capacity: int = 4096,
        wrap_bits: int = 29,
        commit_seconds: float | None = None,
        time_sync: TimeSync | None = None,
    ) -> None:
        """``commit_seconds``: spool every batch window and commit this often, as the deployed bridge does.
        ``time_sync``: the host's clock synchronisation, readings held while it says no (default: synced)."""
        self.tmp_path = tmp_path
        self.clock = ManualClock()
        self.room = Room()
        self.fw: ModuleType = load_firmware()
        self.link = tmp_path / "ttyACM0"
        self.port = PtyPort.open()
        self.cable = LossyPort(self.port)
        point_link(self.link, self.port.slave_path)
        self.i2c = emulated_board(SENSORS, self.room, self.clock.wall)
        self.capacity = capacity
        self.wrap_bits = wrap_bits
        self.commit_seconds = commit_seconds
        self.time_sync = time_sync
        self.spool: Spool | None = None
        self.boots = 0
        self.device = self._boot()
        self.settings = serial_settings(tmp_path, str(self.link))
        self.conn: sqlite3.Connection | None = None
        self.start_host()

    def _boot(self) -> Device:
        self.boots += 1
        born = self.clock.monotonic()
        started: list[Device] = []
        self.fw.run(
            self.i2c,
            self.cable,
            lambda: int((self.clock.monotonic() - born) * 1000),
            "e6614103e7",
            f"{self.boots:08x}",
            SENSORS,
            capacity=self.capacity,
            wrap_bits=self.wrap_bits,
            should_stop=lambda: bool(started),
            on_start=started.append,
        )
        return started[0]

    # -- host --------------------------------------------------------------------------------------

    def start_host(self) -> None:
        db = Database(self.settings.db_path)
        db.initialise()
        self.conn = db.connect()
        sync_site(self.conn, self.settings, self.clock.wall())
        self.engine = Engine(self.conn, load_catalog(), default_rules(self.settings.rules.thresholds()))
        if self.commit_seconds is not None:
            path = Spool.beside(self.settings.db_path)
            replay_spool(self.engine, path, self.clock.wall())
            self.spool = Spool(path)
        sensors = {s.key: s.quantity for s in self.settings.sensors if s.driver == "serial"}
        self.source = SerialSource(self.settings.bridge.serial[0], self.conn, sensors, self.clock)
        self.loop = AcquisitionLoop(
            [],
            self.clock,
            self.engine,
            AcquisitionSettings(
                self.settings.bridge.batch_seconds, self.commit_seconds, hold_unsynchronised_seconds=600.0
            ),
            real_monotonic=self.clock.monotonic,
            sources=[self.source],
            spool=self.spool,
            time_sync=self.time_sync,
        )

    def stop_host(self, *, flush: bool = True) -> None:
        """Stop the host: cleanly (flush) or as a crash (the batch in memory is lost)."""
        if flush:
            self.loop.flush()
        self.source.close()
        if self.spool is not None:
            self.spool.close()
            self.spool = None
        assert self.conn is not None
        self.conn.close()
        self.conn = None

    # -- device ------------------------------------------------------------------------------------

    def unplug(self) -> None:
        self.port.close()
        self.link.unlink()

    def replug(self) -> None:
        self.port = PtyPort.open()
        self.cable.inner = self.port
        point_link(self.link, self.port.slave_path)

    def reboot(self) -> None:
        self.device = self._boot()

    def inject(self, data: bytes, *, partial: bool = False) -> None:
        """Bytes on the line from the device's side (a noisy cable); ``partial``: what fits in the pty."""
        if partial:
            select.select([], [self.port.fd], [], 0.2)
            with contextlib.suppress(BlockingIOError):  # the pty is full: these bytes are lost
                os.write(self.port.fd, data)
            return
        assert os.write(self.port.fd, data) == len(data), "the pty took only part of the bytes"

    # -- time --------------------------------------------------------------------------------------

    def run(self, seconds: float, step: float = 0.25, *, host: bool = True) -> None:
        for _ in range(round(seconds / step)):
            delivered = self.cable.delivered
            self.device.step()
            if host and self.cable.delivered != delivered:
                self._await_delivery()
            self.clock.advance(step)
            if host and self.conn is not None:
                self.loop.poll_once()
                if self.loop.due_for_flush():
                    self.loop.flush()
                elif self.loop.due_for_spool():
                    self.loop.write_spool()

    def _await_delivery(self) -> None:
        """Let the kernel hand the pty's bytes to the host's end before the manual clock moves on, so a
        frame's transit takes no clock time (as a USB line's milliseconds take next to none)."""
        port = self.source.link._port if self.conn is not None else None
        if port is not None:
            select.select([port.fd], [], [], 0.2)

    # -- what was stored ---------------------------------------------------------------------------

    def db(self) -> sqlite3.Connection:
        return Database(self.settings.db_path).connect()

    def frames_stored(self) -> list[tuple[str, int]]:
        conn = self.db()
        try:
            rows = conn.execute("SELECT boot_id, seq FROM serial_frames ORDER BY boot_id, seq").fetchall()
        finally:
            conn.close()
        return [(str(b), int(s)) for b, s in rows]

    def light_times(self) -> list[float]:
        conn = self.db()
        try:
            rows = conn.execute("SELECT ts FROM light_readings ORDER BY ts").fetchall()
        finally:
            conn.close()
        return [float(r[0]) for r in rows]

    def reading_and_frame_times(self) -> tuple[list[float], list[float]]:
        """Every stored reading's and fault's time, and every stored frame's, sorted: one reading per frame
        makes them equal."""
        conn = self.db()
        try:
            readings = conn.execute(
                "SELECT ts FROM light_readings UNION ALL SELECT ts FROM temperature_readings"
                " UNION ALL SELECT ts FROM sensor_faults"
            ).fetchall()
            frames = conn.execute("SELECT ts FROM serial_frames").fetchall()
        finally:
            conn.close()
        return sorted(float(r[0]) for r in readings), sorted(float(r[0]) for r in frames)

    def gaps(self) -> list[tuple[float, float, str]]:
        conn = self.db()
        try:
            rows = conn.execute("SELECT start_ts, end_ts, reason FROM gaps ORDER BY start_ts").fetchall()
        finally:
            conn.close()
        return [(float(a), float(b), str(r)) for a, b, r in rows]

    def close(self) -> None:
        if self.conn is not None:
            self.stop_host(flush=False)
        self.port.close()
