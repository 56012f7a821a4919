"""When the vial rules look again: a vial's potency is the costliest observation, so not every batch."""

from __future__ import annotations

import math
import sqlite3

from monitor.batch import Batch
from monitor.store import vials as vial_store

# In a dark fridge, how often the vial rules look again (clock seconds): a thermal loss of a few parts per
# million an hour cannot cross a threshold in between, and a label's 60-minute limit is late by at most this.
VIAL_RECHECK_SECONDS = 30.0


class VialRecheck:
    """Decides per batch whether the vial rules need a fresh potency, and knows where the vials are.

    A vial's potency is a walk over its events and its locations' ledgers (most of a quiet batch's CPU,
    measured with ``bench/bench_footprint.py``), and in a closed, dark fridge it moves only by the slow
    thermal term. So it is recomputed when light was seen, when a vial was registered or an event recorded
    (by any process: events are rows, a vial's status moves only with one), and otherwise every
    :data:`VIAL_RECHECK_SECONDS`.
    """

    def __init__(self) -> None:
        self._checked_at = -math.inf  # clock time of the last evaluation of the vial rules
        self._stamp: tuple[int, int] | None = None  # newest vial and vial event then
        self.holding: set[int] = set()  # locations holding an active vial, as of that stamp

    def due(self, conn: sqlite3.Connection, batch: Batch, now: float) -> bool:
        """Whether the vial rules run for ``batch`` at ``now``; refreshes :attr:`holding` when the vials
        or their events changed."""
        stamp = vial_store.change_stamp(conn)
        due = (
            stamp != self._stamp
            or now - self._checked_at >= VIAL_RECHECK_SECONDS
            or any(r.lux > 0.0 for r in batch.light)
        )
        if stamp != self._stamp:  # where the vials are moves only with a vial or an event
            self.holding = vial_store.active_location_ids(conn)
        self._stamp = stamp
        if due:
            self._checked_at = now
        return due
