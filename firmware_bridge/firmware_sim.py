"""Running the microcontroller firmware under CPython: its ``code.py`` loaded by path, a pseudo-terminal as
its USB port, emulated chips on an emulated I2C bus reading the simulated fridge.

The firmware file is loaded by path, never by putting its folder on ``sys.path`` (a ``code.py`` there would
shadow the standard ``code`` module).
"""

from __future__ import annotations

import errno
import fcntl
import importlib.util
import os
import select
import termios
import tty
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from firmware_bridge.firmware.device import parse_sensors
from hardware.environment import Environment
from hardware.i2c_emulator import EmulatedI2C
from hardware.registry import emulated_buses

FIRMWARE_DIR = Path(__file__).parent / "firmware"


def load_firmware() -> ModuleType:
    """The board's ``code.py`` as a module (its ``__name__`` is not ``__main__``, so it only defines)."""
    spec = importlib.util.spec_from_file_location("vialguard_firmware_code", FIRMWARE_DIR / "code.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PtyPort:
    """The device's end of a pseudo-terminal, shaped like CircuitPython's ``usb_cdc.data``.

    ``connected`` is true while a host holds the other end open (as USB CDC reports DTR); writes never
    block: a full buffer or a missing host writes nothing, and the firmware sends the frame again later.
    """

    def __init__(self, master_fd: int, slave_path: str) -> None:
        self.fd = master_fd
        self.slave_path = slave_path
        os.set_blocking(master_fd, False)

    @classmethod
    def open(cls) -> PtyPort:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no newline translation: bytes pass as written
        path = os.ttyname(slave)
        os.close(slave)
        return cls(master, path)

    @property
    def connected(self) -> bool:
        if self.fd < 0:
            return False
        events = select.poll()
        events.register(self.fd, select.POLLHUP)
        return not any(ev & select.POLLHUP for _, ev in events.poll(0))

    @property
    def in_waiting(self) -> int:
        if self.fd < 0:
            raise OSError(errno.EIO, "port closed")
        buf = bytearray(4)
        fcntl.ioctl(self.fd, termios.FIONREAD, buf)
        return int.from_bytes(buf, "little")

    def read(self, n: int) -> bytes:
        try:
            return os.read(self.fd, n)
        except BlockingIOError:
            return b""

    def write(self, data: bytes) -> int:
        if self.fd < 0:
            raise OSError(errno.EIO, "port closed")
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0

    def close(self) -> None:
        """Pull the cable: the host's end sees the device vanish."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def point_link(link: Path, target: str) -> None:
    """Make ``link`` a symlink to ``target`` atomically, as udev's ``/dev/serial/by-id`` names are."""
    tmp = link.with_name(link.name + ".new")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    tmp.replace(link)


def emulated_board(
    sensors: str, environment: Environment, now: Callable[[], float], seed: int = 0
) -> EmulatedI2C:
    """An emulated I2C bus with a chip for each firmware sensor entry, reading ``environment``."""
    placements = [(driver, address) for _, driver, address, _ in parse_sensors(sensors)]
    i2c, _ = emulated_buses(placements, environment, now, seed)
    return i2c
