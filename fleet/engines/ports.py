"""Loopback ports: one no other process is handed meanwhile, and waiting until a server listens."""

from __future__ import annotations

import atexit
import socket
import sys
import time
from collections.abc import Callable

from fleet.errors import EngineError

# The sockets that hold the ports free_port handed out, for the life of this process.
_held: list[socket.socket] = []


def free_port() -> int:
    """A loopback port nothing listens on, which the kernel hands to no one else while this process runs.

    The kernel picks it (a bind to port 0), and on Linux the socket it was picked with stays open: bound,
    never listening, with ``SO_REUSEADDR``. A server given the port still binds and listens on it, as long
    as it sets ``SO_REUSEADDR`` too (uvicorn, Mosquitto, PostgreSQL, Python's ``HTTPServer`` and Go's
    listeners do; one that does not fails at once, never now and then). No bind to port 0 and no outgoing
    connection is given a port a socket is bound to, so another test worker's pick cannot land on it. A
    probe that closed its socket at once left the port to anyone's pick between the probe and the server's
    bind, seconds later under load: two workers could be handed the same port.
    """
    sock = socket.socket()
    if not sys.platform.startswith("linux"):  # the BSDs share a bound address only with SO_REUSEPORT
        with sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    if not _held:
        atexit.register(_release)
    _held.append(sock)
    return int(sock.getsockname()[1])


def _release() -> None:
    while _held:
        _held.pop().close()


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
