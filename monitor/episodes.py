"""Episodes: runs of readings outside a bound (a door opening, a temperature excursion). Pure.

The readings handed in are only those already found outside the bound, oldest first. Two of them belong to
one episode when no more than ``join_seconds`` lie between them: set it just above the sensor's polling
interval, so that one reading back inside the bound (which would sit between them) splits the run. Each
reading stands for one polling interval, so an episode of one reading lasts one interval and an episode's
duration is ``last − first + interval``. A stretch without data ends an episode: nothing is assumed across it.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Direction = Literal["above", "below"]
# A stretch known only as a whole to be outside a bound: (first_ts, last_ts, extreme value, readings).
Span = tuple[float, float, float, int]


@dataclass(frozen=True, slots=True)
class Episode:
    start: float  # the first reading outside the bound
    end: float  # the last reading outside it, plus one polling interval
    peak: float  # the most extreme value seen: the highest above a bound, the lowest below one
    readings: int

    @property
    def seconds(self) -> float:
        return self.end - self.start


def episodes(
    readings: Sequence[tuple[float, float]],
    *,
    join_seconds: float,
    interval_seconds: float,
    direction: Direction,
    spans: Sequence[Span] = (),
) -> list[Episode]:
    """Group ``(ts, value)`` readings outside a bound into episodes.

    ``spans`` are stretches known only as a whole to have been outside it, ``(first_ts, last_ts, value,
    readings)``, oldest first: minutes aggregated past retention, taken as outside throughout.
    """
    if join_seconds <= 0 or interval_seconds <= 0:
        raise ValueError("join_seconds and interval_seconds must be positive")
    worse = max if direction == "above" else min
    out: list[Episode] = []
    start = last = peak = 0.0
    count = 0
    for first, until, value, n in heapq.merge(((ts, ts, v, 1) for ts, v in readings), spans):
        if count and first - last <= join_seconds:
            last, peak, count = max(last, until), worse(peak, value), count + n
            continue
        if count:
            out.append(Episode(start, last + interval_seconds, peak, count))
        start, last, peak, count = first, until, value, n
    if count:
        out.append(Episode(start, last + interval_seconds, peak, count))
    return out


def join_seconds_for(interval_seconds: float, max_gap_seconds: float) -> float:
    """Just over one polling interval (jitter allowed), never beyond the sensor's gap threshold."""
    return min(1.5 * interval_seconds, max_gap_seconds)
