"""Serving the app with uvicorn, quietly enough for a Raspberry Pi that idles all day."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from types import FrameType

import uvicorn
from fastapi import FastAPI


class QuietServer(uvicorn.Server):
    """uvicorn with a once-a-second housekeeping tick instead of ten, and an immediate stop.

    uvicorn's ``main_loop`` wakes every 0.1 s to look for a stop request and refresh the ``Date`` header
    (which it does only every tenth tick). Measured on the idle API (``bench/bench_footprint.py``), those
    wake-ups were most of its CPU time: ten a second, all day. Here the loop ticks once a second, which
    keeps the ``Date`` header exact to the second, and a stop signal wakes it at once.
    """

    _loop: asyncio.AbstractEventLoop | None = None
    _exit: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._exit = asyncio.get_running_loop(), asyncio.Event()
        # Counter 0 on every tick: on_tick refreshes the Date header when counter % 10 == 0.
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit.wait(), timeout=1.0)

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


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run ``app`` until SIGINT or SIGTERM."""
    QuietServer(uvicorn.Config(app, host=host, port=port, log_level="warning")).run()
