"""Telling systemd how a service is doing: the ``sd_notify`` protocol, in a few lines of pure Python.

A unit with ``Type=notify`` passes a datagram socket's address in ``NOTIFY_SOCKET`` (a path, or ``@name`` in
the abstract namespace) and waits for ``READY=1`` before it counts the service as started; ``STOPPING=1``
says a stop is under way. With ``WatchdogSec=`` it also passes ``WATCHDOG_USEC`` (and ``WATCHDOG_PID``, the
process meant) and restarts the service unless ``WATCHDOG=1`` arrives within that time: the main loop pings,
so a loop stuck in a hung bus read or a locked database is restarted rather than left silent.
See sd_notify(3) and systemd.service(5), ``WatchdogSec=``.

Outside systemd (no ``NOTIFY_SOCKET``) every call does nothing, and :attr:`SystemdNotify.wake_seconds` is
infinite, so the loops sleep as long as they otherwise would.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import Protocol

log = logging.getLogger(__name__)


class Watchdog(Protocol):
    """What a main loop needs: how long it may sleep at most, and a ping to send when it wakes."""

    @property
    def wake_seconds(self) -> float:
        """The longest a loop may sleep between two pings (infinite without a watchdog)."""
        ...

    def ping(self) -> None:
        """The loop is alive: tell the watchdog (sent at most every quarter of its period)."""
        ...


class SystemdNotify:
    """An ``sd_notify`` client on the socket systemd gave, or a silent one without it."""

    def __init__(
        self,
        address: str | None,
        watchdog_seconds: float | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.address = address
        self.watchdog_seconds = watchdog_seconds
        self._monotonic = monotonic
        self._last_ping = -math.inf
        self._failing = False
        self._socket: socket.socket | None = None
        if address is not None:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SystemdNotify:
        """The client described by ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID``."""
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        if address is not None and not address.startswith(("/", "@")):
            log.warning("NOTIFY_SOCKET=%r is neither a path nor an abstract name: not notifying", address)
            address = None
        watchdog: float | None = None
        usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
        if usec:
            try:
                watchdog = int(usec) / 1e6
                meant_for_us = not pid or int(pid) == os.getpid()
            except ValueError:
                log.warning(
                    "WATCHDOG_USEC=%r or WATCHDOG_PID=%r is not an integer: no watchdog pings", usec, pid
                )
                watchdog = None
            else:
                if watchdog <= 0 or not meant_for_us:
                    watchdog = None
        return cls(address, watchdog)

    @property
    def wake_seconds(self) -> float:
        # Half the period: a ping sent at the latest wake-up still arrives with half the period to spare.
        if self._socket is None or self.watchdog_seconds is None:
            return math.inf
        return self.watchdog_seconds / 2

    def notify(self, *assignments: str) -> None:
        """Send ``KEY=value`` lines in one datagram; a failure is logged once, on its edge."""
        if self._socket is None or self.address is None:
            return
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            self._socket.sendto("\n".join(assignments).encode(), target)
        except OSError as exc:
            if not self._failing:
                log.warning("cannot notify systemd at %s: %s", self.address, exc)
            self._failing = True
            return
        if self._failing:
            log.info("notifying systemd again")
            self._failing = False

    def ready(self, status: str | None = None) -> None:
        self.notify("READY=1", *(() if status is None else (f"STATUS={status}",)))

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def ping(self) -> None:
        if self.watchdog_seconds is None:
            return
        now = self._monotonic()
        if now - self._last_ping >= self.watchdog_seconds / 4:
            self._last_ping = now
            self.notify("WATCHDOG=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
