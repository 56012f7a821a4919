"""Waking long-polls when an alert changes, with one watcher for every waiter.

The bridge writes alerts from another process, so nothing in the API is told of a change: it has to look.
One task per API process reads the newest change (one indexed ``MAX()``) every ``interval_seconds`` while
anyone waits, and wakes every waiter when it moves. A thousand pollers waiting cost one query every quarter
second, not a thousand, and no thread each: they are coroutines parked on an :class:`asyncio.Event`. The
query runs on a worker thread, so the event loop never blocks on the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from monitor.errors import StoreError

log = logging.getLogger(__name__)


class ChangeWatcher:
    """Tells waiters when the newest alert change passes the one they hold."""

    def __init__(self, read_latest: Callable[[], int], interval_seconds: float = 0.25) -> None:
        self._read_latest = read_latest
        self.interval_seconds = interval_seconds
        self._latest: int | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.waiters = 0

    async def wait_beyond(self, seq: int, timeout_seconds: float) -> bool:
        """Wait until a change newer than ``seq`` exists, at most ``timeout_seconds``; True if one does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds
        self.waiters += 1
        try:
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._watch())
            while self._latest is None or self._latest <= seq:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    return False
            return True
        finally:
            self.waiters -= 1

    async def _watch(self) -> None:
        failed = False
        while self.waiters > 0:
            try:
                latest = await asyncio.to_thread(self._read_latest)
            except StoreError as exc:
                if not failed:  # logged on the edge, not on every tick
                    log.warning("cannot read the alert change sequence: %s", exc)
                failed = True
            else:
                if failed:
                    log.info("alert change sequence readable again")
                failed = False
                if latest != self._latest:
                    self._latest = latest
                    changed, self._changed = self._changed, asyncio.Event()
                    changed.set()
            await asyncio.sleep(self.interval_seconds)
