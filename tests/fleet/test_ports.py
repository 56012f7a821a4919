"""A free loopback port stays the caller's: no other pick lands on it, and its server still binds it."""

from __future__ import annotations

import errno
import socket
import sys

import pytest

from fleet.engines.ports import free_port

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="held ports rest on Linux's SO_REUSEADDR rules"
)


def test_a_server_listens_on_the_port_and_a_plain_bind_is_refused() -> None:
    """The port's server (SO_REUSEADDR, as uvicorn binds) listens and answers; a bind without it is
    refused while this process holds the port, so a second server cannot take it unnoticed."""
    port = free_port()
    with socket.socket() as plain, pytest.raises(OSError, match="in use") as refused:
        plain.bind(("127.0.0.1", port))
    assert refused.value.errno == errno.EADDRINUSE
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()
        with socket.create_connection(("127.0.0.1", port), timeout=5), server.accept()[0]:
            pass


def test_the_kernel_picks_around_ports_handed_out() -> None:
    """Binds to port 0 (another worker's free_port) never get a port handed out here: 5000 picks against
    50 held ports, where about 9 would land on them if the ports were let go."""
    held = {free_port() for _ in range(50)}
    for _ in range(5000):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            assert probe.getsockname()[1] not in held
