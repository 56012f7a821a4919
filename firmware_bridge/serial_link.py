"""The serial port of a microcontroller, opened by URL and opened again after it vanishes.

``serial.serial_for_url`` takes ``/dev/ttyACM0`` or a ``/dev/serial/by-id/...`` name in the field, a
pseudo-terminal in the tests, ``spy://`` for a hex dump while debugging. An unplugged cable raises
``SerialException`` (or ``OSError``) on the next read or write: the port is closed and tried again every
``reconnect_seconds``. Going down and coming back are each logged once, never a line per attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import serial

from hardware.clock import Clock
from monitor.config import SerialSourceConfig

log = logging.getLogger(__name__)


class SerialLink:
    """The port, opened by URL, reopened after it fails; its going down and coming back logged once each."""

    def __init__(
        self,
        config: SerialSourceConfig,
        clock: Clock,
        opener: Callable[..., Any] = serial.serial_for_url,
    ) -> None:
        self.url = config.url
        self.baudrate = config.baudrate
        self.retry_seconds = config.reconnect_seconds
        self._clock = clock
        self._opener = opener
        self._port: Any = None
        self._next_try = -float("inf")
        self._down_logged = False
        self.opened = 0  # times the port was opened

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def _open(self) -> bool:
        now = self._clock.monotonic()
        if now < self._next_try:
            return False
        self._next_try = now + self.retry_seconds
        try:
            self._port = self._opener(self.url, baudrate=self.baudrate, timeout=0, write_timeout=1.0)
        except (serial.SerialException, OSError, ValueError) as exc:
            if not self._down_logged:
                log.warning(
                    "serial port %s unavailable: %s (retrying every %g s)", self.url, exc, self.retry_seconds
                )
                self._down_logged = True
            return False
        self._down_logged = False
        self.opened += 1
        log.info("serial port %s open", self.url)
        return True

    def _lost(self, exc: Exception) -> None:
        log.warning("serial port %s lost: %s", self.url, exc)
        self._down_logged = True
        self.close()

    def read(self) -> tuple[bytes, bool]:
        """Bytes waiting (never blocks), and whether the port was (re)opened by this call."""
        opened = False
        if self._port is None:
            opened = self._open()
            if not opened:
                return b"", False
        try:
            data = bytes(self._port.read(self._port.in_waiting or 1))
        except (serial.SerialException, OSError) as exc:
            self._lost(exc)
            return b"", opened
        return data, opened

    def write(self, data: bytes) -> bool:
        if self._port is None:
            return False
        try:
            self._port.write(data)
        except (serial.SerialException, OSError) as exc:
            self._lost(exc)
            return False
        return True

    def close(self) -> None:
        if self._port is not None:
            port, self._port = self._port, None
            try:
                port.close()
            except (serial.SerialException, OSError):
                log.debug("closing %s failed; it is gone anyway", self.url)
