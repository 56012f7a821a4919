"""Is the wall clock synchronised? systemd-timesyncd's flag file, else the kernel's answer (``adjtimex``),
and a twin for tests and simulation.

A Raspberry Pi has no real-time clock: it boots with the time it saved at shutdown (or an image's build
date) until NTP steps it. Two ways to learn when it is right, chosen by :func:`system_time_sync`:

- systemd-timesyncd (Raspberry Pi OS's and Debian's default) touches ``/run/systemd/timesync/synchronized``
  at each successful synchronisation, "to assist ... other applications to detecting synchronization"
  (systemd-timesyncd.service(8)). Its directory exists while timesyncd runs (``RuntimeDirectory=`` of its
  unit), and ``/run`` is a tmpfs, so the file never outlives a boot. Reading it needs no system call that a
  hardening option filters: it works under ``ProtectClock=yes``.
- Elsewhere (chrony, ntpd) the kernel knows: ``adjtimex(2)`` with no modes set only reads, needs no
  privilege, and returns ``TIME_ERROR`` (with ``STA_UNSYNC`` in the status) until a daemon has disciplined
  the clock. systemd's ``ProtectClock=yes`` denies the whole ``@clock`` group by seccomp, this read included
  (EPERM), so the bridge's unit leaves it off and protects the clock otherwise (no ``CAP_SYS_TIME``, the
  setting calls filtered); see deploy/systemd/vialguard-bridge.service.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import sys
from pathlib import Path
from typing import Protocol

from hardware.errors import HardwareError

TIME_ERROR = 5  # adjtimex's return value while the clock is not synchronised
STA_UNSYNC = 0x0040
TIMESYNCD_FLAG = Path("/run/systemd/timesync/synchronized")  # systemd-timesyncd.service(8), "Files"


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
            code = ctypes.get_errno()
            hint = (
                " (denied by a seccomp filter such as systemd's ProtectClock=yes)"
                if code == errno.EPERM
                else ""
            )
            raise HardwareError(f"adjtimex failed: {errno.errorcode.get(code, code)}{hint}")
        return state != TIME_ERROR and not timex.status & STA_UNSYNC

    def __str__(self) -> str:
        return "the kernel (adjtimex)"


class TimesyncdFlag:
    """systemd-timesyncd's word: synchronised once it has touched its flag file."""

    def __init__(self, flag: Path = TIMESYNCD_FLAG) -> None:
        self.flag = flag

    def synchronised(self) -> bool:
        try:
            return self.flag.exists()
        except OSError as exc:  # a permission error on the directory: exists() raises rather than says no
            raise HardwareError(f"cannot look for {self.flag}: {exc}") from exc

    def __str__(self) -> str:
        return f"systemd-timesyncd ({self.flag})"


def system_time_sync(flag: Path = TIMESYNCD_FLAG) -> TimeSync:
    """timesyncd's flag file while timesyncd runs (its directory exists), else the kernel's answer."""
    if flag.parent.is_dir():
        return TimesyncdFlag(flag)
    return KernelTimeSync()


class ManualTimeSync:
    """A synchronisation state set by hand: the simulation's (always synchronised) and the tests'."""

    def __init__(self, synchronised: bool = True) -> None:
        self.state = synchronised

    def synchronised(self) -> bool:
        return self.state

    def __str__(self) -> str:
        return "set by hand"
