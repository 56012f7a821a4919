"""`vialguard run`: start the bridge, the API and any webhook deliverer; watch them; stop all cleanly.

A child that dies is restarted with backoff (at most ``MAX_RESTARTS`` in ``RESTART_WINDOW_SECONDS``; past
that the supervisor stops everything and exits non-zero, leaving restarts to systemd). Ctrl-C or SIGTERM
sends SIGTERM to both children and waits up to ``STOP_TIMEOUT_SECONDS`` before killing them.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger(__name__)

MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 5.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv)  # our own interpreter and arguments
        log.info("started %s (pid %d)", self.name, self.process.pid)


def supervise(children: list[Child], ready_message: str) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for child in children:
        child.start()
    print(ready_message, flush=True)  # noqa: T201  # the user asked `vialguard run` where to look
    status = 0
    # Once a second is soon enough to restart a crashed child, and each wake-up costs a Pi CPU all day.
    # A signal interrupts the wait at once, so stopping is not delayed.
    while not stop.wait(1.0):
        for child in children:
            assert child.process is not None
            code = child.process.poll()
            if code is None:
                continue
            now = time.monotonic()
            while child.restarts and now - child.restarts[0] > RESTART_WINDOW_SECONDS:
                child.restarts.popleft()
            if len(child.restarts) >= MAX_RESTARTS:
                log.error(
                    "%s exited with %d and has restarted %d times in %.0f s: giving up",
                    child.name,
                    code,
                    len(child.restarts),
                    RESTART_WINDOW_SECONDS,
                )
                status = 1
                stop.set()
                break
            log.warning("%s exited with %d; restarting", child.name, code)
            child.restarts.append(now)
            time.sleep(min(2.0 ** len(child.restarts) * 0.25, 8.0))
            child.start()
    _stop_all(children)
    return status


def _stop_all(children: list[Child]) -> None:
    for child in children:
        if child.process is not None and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log.error(  # noqa: TRY400  # a timeout, not a failure: its traceback says nothing
                "%s did not stop within %.0f s; killing it", child.name, STOP_TIMEOUT_SECONDS
            )
            child.process.kill()
            child.process.wait()
        log.info("%s stopped (exit %s)", child.name, child.process.returncode)


def child_argv(command: str, passthrough: list[str]) -> list[str]:
    return [sys.executable, "-m", "vialguard", command, *passthrough]
