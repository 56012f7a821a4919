"""The sd_notify client: what systemd's environment means, and pings paced to the watchdog's period."""

from __future__ import annotations

import logging
import math
import os
import socket
from pathlib import Path

import pytest

from hardware.sd_notify import SystemdNotify


def test_outside_systemd_nothing_is_sent_and_loops_sleep_as_long_as_they_like() -> None:
    """No NOTIFY_SOCKET: every call is a no-op and the loops' sleep is not shortened."""
    notify = SystemdNotify.from_environment({"WATCHDOG_USEC": "1000000"})
    notify.ready()
    notify.ping()
    assert notify.wake_seconds == math.inf


def test_a_watchdog_meant_for_another_process_is_not_pinged() -> None:
    """WATCHDOG_PID names another process (a child inherited it): no pings from this one."""
    env = {"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    others, ours = (
        SystemdNotify.from_environment(env),
        SystemdNotify.from_environment({**env, "WATCHDOG_PID": str(os.getpid())}),
    )
    wake = (others.wake_seconds, ours.wake_seconds)
    others.close()
    ours.close()
    assert wake == (math.inf, 0.5)


def test_pings_are_paced_to_a_quarter_of_the_period(tmp_path: Path) -> None:
    """A loop that wakes often sends WATCHDOG=1 at most every WatchdogSec/4, not at every wake-up."""
    now = [0.0]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(tmp_path / "notify"))
        sock.setblocking(False)
        notify = SystemdNotify(str(tmp_path / "notify"), 8.0, monotonic=lambda: now[0])
        for _ in range(41):  # 20 s in half-second steps
            notify.ping()
            now[0] += 0.5
        got = []
        while True:
            try:
                got.append(sock.recv(64))
            except BlockingIOError:
                break
        notify.close()
    assert got == [b"WATCHDOG=1"] * 11  # at 0, 2, 4, ... 20 s


def test_a_socket_that_is_gone_is_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """systemd's socket vanished: one warning, however many notifications fail."""
    notify = SystemdNotify(str(tmp_path / "gone"), 4.0)
    with caplog.at_level(logging.WARNING, logger="hardware.sd_notify"):
        for _ in range(5):
            notify.ready()
    notify.close()
    assert len(caplog.records) == 1
