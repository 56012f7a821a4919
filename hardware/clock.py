"""Clocks, injected wherever time is read: real, time-warped for the simulator, and manual for tests.

Wall time (UTC seconds since the epoch) only labels records; durations come from the monotonic clock, so an
NTP step of the wall clock never stretches or shrinks an exposure interval.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Protocol


class Clock(Protocol):
    """What the acquisition loop and the API need to know about time."""

    def wall(self) -> float:
        """UTC wall time in seconds since the epoch, for labelling records."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never steps, for measuring intervals."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time (a warp clock waits less real time)."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """As :meth:`sleep`, but return once ``event`` (a stop request) is set; returns whether it is."""
        ...


class StopEvent(threading.Event):
    """A stop request (a :class:`threading.Event` that is set once and never cleared) whose timed wait
    costs one lock acquire.

    ``Event.wait`` builds a condition's waiter at every call: a lock allocated, queued, released and
    reacquired in Python. A loop that sleeps once a second all day on a Pi, each time with cold caches,
    paid about 80 µs a wake-up more for that than for the sleep itself (``bench/bench_footprint.py``;
    measured against ``time.sleep`` and a bare lock acquire, which cost the same). Here a waiter blocks on
    a lock held until :meth:`set` releases it; each waiter woken releases it again for the next. Waiting
    without a timeout, or once set, is :class:`threading.Event`'s own.
    """

    def __init__(self) -> None:
        super().__init__()
        self._gate = threading.Lock()
        self._gate.acquire()  # held until set

    def set(self) -> None:
        super().set()
        with contextlib.suppress(RuntimeError):  # already open: set twice, or a waiter passing it on
            self._gate.release()

    def clear(self) -> None:
        raise TypeError("a stop request is not withdrawn: make a new StopEvent")

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is None or self.is_set():
            return super().wait(timeout)
        if self._gate.acquire(True, max(timeout, 0.0)):
            with contextlib.suppress(RuntimeError):  # another set() opened it meanwhile
                self._gate.release()  # open for the next waiter
        return self.is_set()


class SystemClock:
    """The machine's own clocks."""

    def wall(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(seconds, 0.0))


class WarpClock:
    """Simulated time running ``speed`` times faster than real time from a shared origin.

    Both processes of ``vialguard run --simulate`` build one from the same ``(sim_origin, real_origin)``;
    ``real_origin`` is read from ``CLOCK_MONOTONIC``, which Linux shares between processes, so the bridge and
    the API agree on simulated time without talking to each other.
    """

    def __init__(self, speed: float, sim_origin: float, real_origin: float | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.speed = speed
        self.sim_origin = sim_origin
        self.real_origin = time.monotonic() if real_origin is None else real_origin

    def _elapsed(self) -> float:
        return (time.monotonic() - self.real_origin) * self.speed

    def wall(self) -> float:
        return self.sim_origin + self._elapsed()

    def monotonic(self) -> float:
        return self._elapsed()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(seconds, 0.0) / self.speed)


class ManualClock:
    """A clock that moves only when told to: tests drive time and never sleep.

    ``sleep`` advances the clock instantly, so a loop under test runs as fast as the CPU allows.
    """

    def __init__(self, wall: float = 1_767_225_600.0, monotonic: float = 0.0) -> None:
        # Default start: 2026-01-01T00:00:00Z, a fixed point so test timestamps are reproducible.
        self._wall = wall
        self._monotonic = monotonic
        self._lock = threading.Lock()

    def wall(self) -> float:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a manual clock only moves forward; use step_wall for a wall-clock jump")
        with self._lock:
            self._wall += seconds
            self._monotonic += seconds

    def step_wall(self, seconds: float) -> None:
        """Jump the wall clock alone (as NTP does), leaving the monotonic clock where it is."""
        with self._lock:
            self._wall += seconds

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Advance at once, unless a stop is already asked for."""
        if not event.is_set():
            self.sleep(seconds)
        return event.is_set()
