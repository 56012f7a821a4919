"""Is the wall clock synchronised? The kernel's answer (``adjtimex``), and a twin for tests and simulation.

A Raspberry Pi has no real-time clock: it boots with the time it saved at shutdown (or an image's build
date) until NTP steps it. The kernel knows whether a time daemon has disciplined the clock: ``adjtimex(2)``
with no modes set only reads, needs no privilege, and returns ``TIME_ERROR`` (with ``STA_UNSYNC`` in the
status) until then. systemd-timesyncd, chrony and ntpd all clear it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Protocol

from hardware.errors import HardwareError

TIME_ERROR = 5  # adjtimex's return value while the clock is not synchronised
STA_UNSYNC = 0x0040


class TimeSync(Protocol):
    def synchronised(self) -> bool:
        """Whether the wall clock is known to be right."""
        ...


class _Timex(ctypes.Structure):
    # The head of Linux's struct timex, enough to reach ``status``; the kernel writes the whole struct,
    # so the tail is reserved generously (it is 208 bytes on 64-bit, less on 32-bit ARM).
    _fields_ = (
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("_rest", ctypes.c_byte * 512),
    )


class KernelTimeSync:
    """The kernel's synchronisation state through ``adjtimex`` (Linux)."""

    def __init__(self) -> None:
        if not sys.platform.startswith("linux"):
            raise HardwareError(f"adjtimex is Linux-only; this is {sys.platform}")
        name = ctypes.util.find_library("c")
        if name is None:
            raise HardwareError("the C library was not found, so adjtimex cannot be called")
        self._adjtimex = ctypes.CDLL(name, use_errno=True).adjtimex

    def synchronised(self) -> bool:
        timex = _Timex()  # modes = 0: read only
        state = self._adjtimex(ctypes.byref(timex))
        if state == -1:
            raise HardwareError(f"adjtimex failed: errno {ctypes.get_errno()}")
        return state != TIME_ERROR and not timex.status & STA_UNSYNC


class ManualTimeSync:
    """A synchronisation state set by hand: the simulation's (always synchronised) and the tests'."""

    def __init__(self, synchronised: bool = True) -> None:
        self.state = synchronised

    def synchronised(self) -> bool:
        return self.state
