"""``vialguard firmware-sim``: the microcontroller firmware under CPython, on emulated chips in the simulated
fridge, streaming over a serial port, so the serial path can be tried with no board.

    vialguard firmware-sim --pty /tmp/vialguard-tty          # makes a pseudo-terminal, links its host end
    vialguard bridge --config site.toml                      # [[bridge.serial]] url = "/tmp/vialguard-tty"

``kill -USR1`` pulls the cable for ``--unplug-seconds`` (the device keeps sampling into its buffer).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from firmware_bridge.firmware.device import DEFAULT_SENSORS, Device, parse_sensors
from firmware_bridge.firmware.ring import DEFAULT_CAPACITY
from firmware_bridge.firmware_sim import PtyPort, emulated_board, load_firmware, point_link
from firmware_bridge.sensors import build_fridge
from monitor.errors import ConfigError
from vialguard.options import CONFIG_ENV, env_path, settings_from
from vialguard.signals import relay_signals

log = logging.getLogger(__name__)


class _Cable:
    """The port the firmware sees; an unplug swaps the pseudo-terminal underneath it."""

    def __init__(self, port: Any) -> None:
        self.port = port
        self.lock = threading.Lock()

    @property
    def connected(self) -> bool:
        with self.lock:
            return bool(getattr(self.port, "connected", True))

    @property
    def in_waiting(self) -> int:
        with self.lock:
            return int(self.port.in_waiting)

    def read(self, n: int) -> bytes:
        with self.lock:
            return bytes(self.port.read(n))

    def write(self, data: bytes) -> int | None:
        with self.lock:
            written = self.port.write(data)
            return None if written is None else int(written)


class _Unplugged:
    connected = False

    @property
    def in_waiting(self) -> int:
        raise OSError("unplugged")

    def read(self, n: int) -> bytes:
        raise OSError("unplugged")

    def write(self, data: bytes) -> int:
        raise OSError("unplugged")

    def close(self) -> None:
        """Nothing is open while unplugged."""


def _open_port(args: argparse.Namespace) -> Any:
    if args.pty is not None:
        port = PtyPort.open()
        point_link(args.pty, port.slave_path)
        print(f"firmware-sim: serial port {args.pty} -> {port.slave_path}", flush=True)  # noqa: T201
        return port
    import serial

    try:
        return serial.serial_for_url(args.port, baudrate=args.baudrate, timeout=0, write_timeout=0)
    except (serial.SerialException, ValueError) as exc:
        raise ConfigError(f"--port {args.port}: cannot open: {exc}") from exc


_HEX = frozenset("0123456789abcdef")


def _check(args: argparse.Namespace) -> None:
    """Every option the firmware would only trip over later, named now."""
    if (args.port is None) == (args.pty is None):
        raise ConfigError("give exactly one of --port URL or --pty LINK")
    try:
        parse_sensors(args.sensors)
    except ValueError as exc:
        raise ConfigError(f"--sensors: {exc}") from exc
    if not 0 < len(args.device_id) <= 32 or not set(args.device_id) <= _HEX:
        raise ConfigError(f"--device-id {args.device_id!r}: lowercase hex digits, at most 32 (16 bytes)")
    if args.boot_id is not None and (len(args.boot_id) != 8 or not set(args.boot_id) <= _HEX):
        raise ConfigError(f"--boot-id {args.boot_id!r}: 8 lowercase hex digits")
    if args.capacity < 1:
        raise ConfigError(f"--capacity {args.capacity}: at least 1 record")
    if not 8 <= args.wrap_bits <= 32:
        raise ConfigError(f"--wrap-bits {args.wrap_bits}: between 8 and 32")
    if args.unplug_seconds < 0:
        raise ConfigError(f"--unplug-seconds {args.unplug_seconds:g}: not negative")


def cmd_firmware_sim(args: argparse.Namespace) -> int:
    _check(args)
    settings = settings_from(
        argparse.Namespace(
            config=args.config, db=None, simulate=True, scenario=args.scenario, host=None, port=None
        )
    )
    fridge = build_fridge(settings.simulation, time.time())
    i2c = emulated_board(args.sensors, fridge, time.time, settings.simulation.seed)
    cable = _Cable(_open_port(args))
    stop = threading.Event()
    unplug = threading.Event()
    relay_signals({signal.SIGTERM: stop, signal.SIGINT: stop, signal.SIGUSR1: unplug})
    deadline = None if args.duration is None else time.monotonic() + args.duration
    replug_at: list[float] = []

    def should_stop() -> bool:
        if unplug.is_set() and args.pty is None:
            unplug.clear()
            print("firmware-sim: SIGUSR1 unplugs a --pty port only; ignored", flush=True)  # noqa: T201
        if unplug.is_set() and not replug_at:
            unplug.clear()
            with cable.lock:
                cable.port.close()
                cable.port = _Unplugged()
            args.pty.unlink(missing_ok=True)
            replug_at.append(time.monotonic() + args.unplug_seconds)
            print(f"firmware-sim: unplugged for {args.unplug_seconds:g} s", flush=True)  # noqa: T201
        if replug_at and time.monotonic() >= replug_at[0]:
            replug_at.clear()
            with cable.lock:
                cable.port = _open_port(args)
        return stop.is_set() or (deadline is not None and time.monotonic() >= deadline)

    boot_id = args.boot_id or os.urandom(4).hex()
    print(f"firmware-sim: device {args.device_id} boot {boot_id}", flush=True)  # noqa: T201
    born = time.monotonic()  # the board's counter starts at its boot, as supervisor.ticks_ms does
    try:
        device: Device = load_firmware().run(
            i2c,
            cable,
            lambda: int((time.monotonic() - born) * 1000),
            args.device_id,
            boot_id,
            args.sensors,
            capacity=args.capacity,
            wrap_bits=args.wrap_bits,
            should_stop=should_stop,
        )
    finally:
        cable.port.close()
        if args.pty is not None:
            args.pty.unlink(missing_ok=True)  # a dangling name would look like a device to the bridge
    print(  # noqa: T201  # command output
        f"firmware-sim: stopped after {device.ring.next_seq - 1} readings; "
        f"{len(device.ring)} unacknowledged, {device.ring.overwritten} overwritten",
        flush=True,
    )
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "firmware-sim",
        help="run the microcontroller firmware on emulated chips, streaming over a serial port or a pty",
    )
    p.add_argument(
        "--config",
        type=Path,
        default=env_path(CONFIG_ENV),
        metavar="FILE",
        help=f"site TOML whose [simulation] drives the fridge (default: ${CONFIG_ENV}, else the shipped one)",
    )
    p.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="KIND@START[+DURATION][:SENSOR]",
        help="force a simulated event, as for `vialguard run --simulate` (repeatable)",
    )
    where = p.add_argument_group("port (one of)")
    where.add_argument("--port", metavar="URL", help="a pyserial URL for the device's end of the line")
    where.add_argument(
        "--pty", type=Path, metavar="LINK", help="make a pseudo-terminal; LINK names its host end"
    )
    p.add_argument("--baudrate", type=int, default=115200, help="for --port (default 115200)")
    p.add_argument(
        "--sensors", default=DEFAULT_SENSORS, help=f"key:driver:address:interval_ms;... ({DEFAULT_SENSORS})"
    )
    p.add_argument(
        "--device-id", default="f1e2d3c4b5a69788", help="the board's id (default f1e2d3c4b5a69788)"
    )
    p.add_argument("--boot-id", help="8 hex digits (default: random, as at every real boot)")
    p.add_argument(
        "--capacity", type=int, default=DEFAULT_CAPACITY, help="ring buffer records (default 4096)"
    )
    p.add_argument("--wrap-bits", type=int, default=29, help="millisecond counter width (default 29)")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: run until stopped)")
    p.add_argument("--unplug-seconds", type=float, default=10.0, help="how long SIGUSR1 unplugs (default 10)")
    p.set_defaults(func=cmd_firmware_sim)
