"""Signals that set threading events, without the deadlock of setting them from the handler itself.

A Python signal handler runs in the main thread between two bytecodes, which may be inside
``Event.wait()`` while that thread holds the event's own (non-reentrant) lock. ``Event.set()`` in the
handler then waits for a lock its own thread holds, and the process never returns: a bridge waiting 50 times
a second for its serial port hung on SIGTERM this way, until systemd would have killed it (an unclean
shutdown at every stop). Here the handler only writes a byte to a pipe; a small thread blocked on the pipe
sets the event, after the handler has returned and the main thread has let go of the lock.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Mapping
from types import FrameType


def relay_signals(events: Mapping[int, threading.Event]) -> None:
    """On each signal number in ``events``, set its event (from a relay thread, never in the handler)."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)  # the handler must never block: a full pipe already says "set"
    by_byte = {signum: bytes([signum]) for signum in events}

    def handler(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(write_fd, by_byte[signum])

    def relay() -> None:
        while data := os.read(read_fd, 64):
            for signum in set(data):
                events[signum].set()

    threading.Thread(target=relay, name="signal-relay", daemon=True).start()
    for signum in events:
        signal.signal(signum, handler)
