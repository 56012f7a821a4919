"""The stop request a loop waits on: an Event whose timed wait ends when it is set, from any thread."""

from __future__ import annotations

import threading

import pytest

from hardware.clock import StopEvent, SystemClock, WarpClock


def test_a_wait_times_out_unset() -> None:
    """Nobody sets it: the wait ends with its timeout and says so."""
    stop = StopEvent()
    assert stop.wait(0.01) is False
    assert stop.wait(0.0) is False
    assert not stop.is_set()


def test_once_set_every_wait_returns_at_once() -> None:
    """Set before the wait, or set twice: each wait, timed or not, returns True."""
    stop = StopEvent()
    stop.set()
    stop.set()
    assert stop.wait(3600.0) is True
    assert stop.wait() is True
    assert stop.wait(0.0) is True


@pytest.mark.parametrize("clock", [SystemClock(), WarpClock(60.0, 0.0)], ids=["system", "warp"])
def test_set_from_another_thread_ends_every_waiter(clock: SystemClock | WarpClock) -> None:
    """Three threads waiting an hour through the clock all return True when a fourth sets it (a wait
    left to its timeout would keep the test waiting an hour)."""
    stop = StopEvent()
    results: list[bool] = []
    waiting = threading.Barrier(4)

    def wait() -> None:
        waiting.wait()
        results.append(clock.wait(stop, 3600.0 * 60.0))

    threads = [threading.Thread(target=wait) for _ in range(3)]
    for t in threads:
        t.start()
    waiting.wait()
    stop.set()
    for t in threads:
        t.join()
    assert results == [True, True, True]


def test_a_stop_is_not_withdrawn() -> None:
    """Clearing would leave a waiter woken for nothing: it is refused, not half done."""
    stop = StopEvent()
    stop.set()
    with pytest.raises(TypeError, match="not withdrawn"):
        stop.clear()
    assert stop.is_set()
