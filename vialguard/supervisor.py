"""`vialguard run`: start the bridge, the API and any webhook deliverer; watch them; stop all cleanly.

A child that dies is restarted with backoff (at most ``MAX_RESTARTS`` in ``RESTART_WINDOW_SECONDS``; past
that the supervisor stops everything and exits non-zero, leaving restarts to systemd). Ctrl-C or SIGTERM
sends SIGTERM to both children and waits up to ``STOP_TIMEOUT_SECONDS`` before killing them.

Some failures no restart can fix, and restarting them for ever behind a banner saying "running" only hides
them. A child that exits with :data:`CONFIG_ERROR_STATUS` (the command line's status for a refused setting,
a taken port, a database another bridge holds), or that exits by itself before it has run
``STARTUP_SECONDS`` after its first start, stops everything at once: the supervisor exits non-zero naming
the child, its status and the reason. A child killed by a signal is restarted as before.

The children die with the supervisor: each asks the kernel for SIGTERM when its parent dies
(``prctl(PR_SET_PDEATHSIG)``), so a supervisor killed outright (SIGKILL, the OOM killer) leaves no bridge
writing unsupervised; and the bridge's lock on the database keeps a new supervisor from starting beside
one that is still stopping.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger(__name__)

MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 5.0
CONFIG_ERROR_STATUS = 2  # vialguard/cli.py's status for an error it names (VialguardError, HardwareError)
# A child that ends by itself sooner than this after its first start never started: restarting it would
# only repeat that. Generous beside the 1.8 s from start to "bridge started" measured here under load.
STARTUP_SECONDS = 10.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel send the child SIGTERM when the supervisor dies (Linux); None
    elsewhere. libc and its ``prctl`` are looked up here, before the fork: the child only makes the call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        log.warning("prctl unavailable: children will outlive a supervisor killed outright")
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the supervisor died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)
    first_started: float | None = None  # monotonic time of the first start

    def start(self) -> None:
        # Our own interpreter and arguments; the child gets SIGTERM if the supervisor dies. A preexec_fn
        # runs between fork and exec, unsafe only beside other threads holding locks: the supervisor runs
        # one thread (/proc/<pid>/task of `vialguard run` lists one).
        self.process = subprocess.Popen(self.argv, preexec_fn=_parent_death_signal())
        if self.first_started is None:
            self.first_started = time.monotonic()
        log.info("started %s (pid %d)", self.name, self.process.pid)

    def cannot_work(self, code: int, now: float) -> str | None:
        """Why restarting this child, which just ended with ``code``, is pointless; ``None`` if it is not."""
        if code == CONFIG_ERROR_STATUS:
            return f"exited with status {code}, a configuration error (its message is above)"
        started = self.first_started if self.first_started is not None else now
        if code > 0 and not self.restarts and now - started < STARTUP_SECONDS:
            return f"exited with status {code} {now - started:.1f} s after it started: it cannot start"
        return None


# A wake-up even without a signal, should one ever be lost: rare enough to cost nothing on a Pi.
_SAFETY_WAKE_SECONDS = 60.0


def supervise(children: list[Child], ready_message: str) -> int:
    """Start ``children``, restart any that ends, stop them all on SIGINT or SIGTERM; the exit status.

    Between events the supervisor sleeps on a pipe that signals write to (``signal.set_wakeup_fd``):
    SIGCHLD when a child ends, SIGINT or SIGTERM to stop. A process that watches two others all day on a
    Pi should not wake up to look at them: a once-a-second poll cost about 12 CPU s a day here
    (``bench/bench_footprint.py``). Whichever thread the kernel hands a signal to, its byte reaches the
    pipe, so an extension's thread (numpy's BLAS pool) cannot swallow it.
    """
    stop = threading.Event()

    def on_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    wake_read, wake_write = os.pipe()  # not inherited by the children
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    previous_fd = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGCHLD, _child_ended)  # the default disposition would write no byte
    try:
        return _watch(children, ready_message, stop, wake_read)
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.set_wakeup_fd(previous_fd)
        os.close(wake_read)
        os.close(wake_write)


def _child_ended(signum: int, frame: FrameType | None) -> None:
    """Nothing to do here: the byte on the wake-up pipe wakes the watch loop, which polls every child."""


def _sleep(wake_fd: int, seconds: float) -> None:
    """Until a signal arrives or ``seconds`` pass."""
    select.select([wake_fd], [], [], seconds)
    with contextlib.suppress(BlockingIOError):
        os.read(wake_fd, 512)


def _watch(children: list[Child], ready_message: str, stop: threading.Event, wake_fd: int) -> int:
    for child in children:
        child.start()
    print(ready_message, flush=True)  # noqa: T201  # the user asked `vialguard run` where to look
    status = 0
    while not stop.is_set():
        restarted = False
        for child in children:
            assert child.process is not None
            code = child.process.poll()
            if code is None:
                continue
            now = time.monotonic()
            reason = child.cannot_work(code, now)
            if reason is not None:
                log.error("%s %s; stopping everything", child.name, reason)
                print(f"vialguard: error: {child.name} {reason}; stopped", file=sys.stderr)  # noqa: T201  # the user's terminal
                status = CONFIG_ERROR_STATUS if code == CONFIG_ERROR_STATUS else 1
                stop.set()
                break
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
            deadline = now + min(2.0 ** len(child.restarts) * 0.25, 8.0)  # backoff, cut short by a stop
            while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                _sleep(wake_fd, left)
            if stop.is_set():
                break
            child.start()
            restarted = True  # others may have ended during the backoff: poll them all again at once
        if not restarted and not stop.is_set():
            _sleep(wake_fd, _SAFETY_WAKE_SECONDS)
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
