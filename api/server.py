"""Serving the app with uvicorn, quietly enough for a Raspberry Pi that idles all day."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate
from types import FrameType

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hardware.sd_notify import SystemdNotify

# A look at uvicorn's own stop conditions even if nothing wakes the loop (a stop requested by setting
# ``should_exit`` rather than by a signal): rare enough to cost nothing on a Pi.
_SAFETY_TICK_SECONDS = 60.0


class DateHeader:
    """ASGI wrapper that adds the ``Date`` header to every response (RFC 9110 §6.6.1).

    uvicorn adds it itself from a value it refreshes by waking up every second, all day, whether or not
    anyone asks anything; here it is formatted when a response needs it, at most once a second.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._second = -1
        self._value = b""

    def _date(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second, self._value = now, formatdate(now, usegmt=True).encode()
        return self._value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (b"date", self._date())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_dated)


class QuietServer(uvicorn.Server):
    """uvicorn without its housekeeping tick, and with an immediate stop.

    uvicorn's ``main_loop`` wakes every 0.1 s to look for a stop request and refresh the ``Date`` header.
    Measured on the idle API (``bench/bench_footprint.py``), those wake-ups were most of its CPU time: ten
    a second, all day; even one a second cost about 25 CPU s a day. Here the ``Date`` header comes from
    :class:`DateHeader` as responses are sent, and the loop sleeps until a stop signal wakes it.
    """

    _loop: asyncio.AbstractEventLoop | None = None
    _exit: asyncio.Event | None = None
    notify: SystemdNotify = SystemdNotify(None)

    async def main_loop(self) -> None:
        """Sleep until a stop; under systemd, say ``READY=1`` first (the sockets are bound by now) and ping
        its watchdog from this loop, so an event loop that no longer runs is restarted."""
        self._loop, self._exit = asyncio.get_running_loop(), asyncio.Event()
        # The kernel may hand SIGTERM to any thread (a worker of the thread pool, numpy's BLAS pool). There
        # the signal only interrupts that thread; the main thread, asleep in the event loop's select(),
        # would not run the Python handler until the safety tick, a minute later, and the supervisor
        # kills an API that has not stopped within 5 s. The wake-up fd gets a byte from whichever thread
        # took the signal, which wakes the loop, and the handler runs.
        wake_read, wake_write = socket.socketpair()
        wake_read.setblocking(False)
        wake_write.setblocking(False)
        self._loop.add_reader(wake_read.fileno(), _drain, wake_read)
        previous = signal.set_wakeup_fd(wake_write.fileno(), warn_on_full_buffer=False)
        tick = min(_SAFETY_TICK_SECONDS, self.notify.wake_seconds)
        self.notify.ready()
        try:
            # Counter 0: on_tick sets uvicorn's default headers (``date_header=False``: the Date is ours).
            while not await self.on_tick(0):
                self.notify.ping()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._exit.wait(), timeout=tick)
            self.notify.stopping()
        finally:
            signal.set_wakeup_fd(previous)
            self._loop.remove_reader(wake_read.fileno())
            wake_read.close()
            wake_write.close()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                # uvicorn raises the stop signal again once it has shut down, so that the process dies of
                # it. Ours has shut down cleanly, and says so with exit status 0: the supervisor and systemd
                # read a death by SIGTERM as a stop that did not finish on its own.
                getattr(self, "_captured_signals", []).clear()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and self._exit is not None:
            self._loop.call_soon_threadsafe(self._exit.set)


def _drain(sock: socket.socket) -> None:
    """Empty the wake-up socket; the signal's handler itself runs in the main thread, now awake."""
    with contextlib.suppress(BlockingIOError, InterruptedError):
        while sock.recv(64):
            pass


def serve(app: ASGIApp, host: str, port: int) -> None:
    """Run ``app`` until SIGINT or SIGTERM; tell systemd how it goes when it runs under a notify unit."""
    # log_config=None: uvicorn's loggers keep no handlers of their own and reach the root logger's, so
    # under systemd their lines carry journal priorities as ours do (vialguard/logs.py).
    config = uvicorn.Config(
        DateHeader(app), host=host, port=port, log_level="warning", log_config=None, date_header=False
    )
    server = QuietServer(config)
    server.notify = SystemdNotify.from_environment()
    try:
        server.run()
    finally:
        server.notify.close()
