"""Loopback ports: one nothing listens on, and waiting until a server listens."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from fleet.errors import EngineError


def free_port() -> int:
    """A loopback port nothing listens on now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(
    port: int, timeout_seconds: float, alive: Callable[[], bool], what: str, log_hint: str
) -> None:
    """Return once something accepts connections on ``127.0.0.1:port``; raise if ``alive`` turns false
    (the server exited) or ``timeout_seconds`` pass."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            pass
        if not alive():
            raise EngineError(f"{what} exited before it listened on port {port}; see {log_hint}")
        if time.monotonic() > deadline:
            raise EngineError(
                f"{what} did not listen on port {port} in {timeout_seconds:g} s; see {log_hint}"
            )
        time.sleep(0.05)
