"""A vial's life cut into stretches, one location and one packaging each, and the times they need.

A vial's events (registered, moved, packaging changed, reconstituted, administered, discarded, handed
over to another site, received from one) carry their true times; between two of them the vial sat in one
location in one packaging, or was away at another site (from a hand-over to the next receipt). The
potency at a time τ is the sum over the stretches up to τ, the one τ falls in cut at τ. The loader asks these
functions which times it must sample each location's ledgers at, so that a load reads no more than the
evaluation will use. Pure: events and times in, stretches and times out.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from monitor.model.inputs import EventFacts, VialInputs
from monitor.model.kinetics import FloatArray

END_KINDS = ("administered", "discarded")
HANDED_OVER = "handed-over"  # the vial left for another site: nothing here adds to it until it comes back
RECEIVED = "received"  # from another site, with the state it had there (:class:`CarriedState`)


@dataclass(frozen=True, slots=True)
class Stretch:
    start: float
    end: float
    location_id: int
    packaging: str


def spans(events: Sequence[EventFacts], until: float) -> list[Stretch]:
    """The vial's stretches in one location and packaging, from its events, up to ``until``."""
    out: list[Stretch] = []
    location: int | None = None
    packaging: str | None = None
    start: float | None = None
    for event in events:
        if event.ts > until:
            break
        if start is not None and location is not None and packaging is not None and event.ts > start:
            out.append(Stretch(start, event.ts, location, packaging))
        if event.kind in END_KINDS:
            return out
        if event.kind == HANDED_OVER:
            location = packaging = start = None
            continue
        location = event.location_id if event.location_id is not None else location
        packaging = event.packaging if event.packaging is not None else packaging
        start = event.ts
    if start is not None and location is not None and packaging is not None and until > start:
        out.append(Stretch(start, until, location, packaging))
    return out


def current(events: Iterable[EventFacts]) -> tuple[int | None, str | None]:
    """The location and packaging after the last of ``events``."""
    location: int | None = None
    packaging: str | None = None
    for event in events:
        if event.kind == HANDED_OVER:
            location = packaging = None
            continue
        location = event.location_id if event.location_id is not None else location
        packaging = event.packaging if event.packaging is not None else packaging
    return location, packaging


def ended(events: Iterable[EventFacts]) -> EventFacts | None:
    """The event that took the vial out of this site's stock: administered, discarded, or handed over to
    another site and not received back since; None while it is here."""
    away: EventFacts | None = None
    for event in events:
        if event.kind in END_KINDS:
            return event
        if event.kind == HANDED_OVER:
            away = event
        elif event.kind == RECEIVED:
            away = None
    return away


def reach(times: Sequence[float], start: float, received: Sequence[float]) -> tuple[int, int]:
    """The indices ``[first, last)`` of ``times`` (sorted) a stretch from ``start`` adds to: those after
    it, up to the vial's next receipt from another site, whose carried state holds this stretch already."""
    first = bisect.bisect_right(times, start)
    following = bisect.bisect_right(received, start)
    last = len(times) if following == len(received) else bisect.bisect_left(times, received[following])
    return first, max(first, last)


def reconstituted(events: Iterable[EventFacts]) -> float | None:
    return next((e.ts for e in events if e.kind == "reconstituted"), None)


def default_as_of(
    registered_ts: float,
    events: Sequence[EventFacts],
    newest_light: Mapping[int, float | None],
    has_light: Mapping[int, bool],
) -> float:
    """Evaluate up to the newest light reading at the vial's location, or its end of life.

    At a location without a light sensor: up to the newest light reading anywhere the vial has been, or
    its latest event, whichever is later.
    """
    end = ended(events)
    if end is not None:
        return end.ts
    # Received from another site: its life here starts then, whatever the data before.
    registered_ts = max([registered_ts, *(e.ts for e in events if e.kind == RECEIVED)])
    location, _ = current(events)
    newest = None if location is None else newest_light.get(location)
    if newest is None and location is not None and not has_light.get(location, False):
        visited = {e.location_id for e in events if e.location_id is not None}
        seen = [t for t in (newest_light.get(loc) for loc in visited) if t is not None]
        newest = max([*seen, *(e.ts for e in events)], default=None)
    return max(registered_ts, newest) if newest is not None else registered_ts


def silent_stretches(events: Sequence[EventFacts], since: float, now: float) -> list[Stretch]:
    """The stretches after the data's time ``since`` up to ``now``, cut at ``since``."""
    out: list[Stretch] = []
    for span in spans(events, now):
        start = max(span.start, since)
        if span.end > start:
            out.append(Stretch(start, span.end, span.location_id, span.packaging))
    return out


def curve_times(
    registered_ts: float, as_of: float, events: Iterable[EventFacts], points: int, *, with_events: bool = True
) -> FloatArray:
    """``points`` evenly spaced times from registration to ``as_of``, and the events' times between, so a
    step (a window opened, a move) lands where it happened (``with_events``; without, just the points)."""
    if not with_events:
        return np.linspace(registered_ts, as_of, points)
    if as_of <= registered_ts:
        return np.array([registered_ts])
    times = set(np.linspace(registered_ts, as_of, points).tolist())
    times |= {e.ts for e in events if registered_ts <= e.ts <= as_of}
    return np.array(sorted(times))


def cuts(vial: VialInputs) -> list[tuple[int, float, float]]:
    """``(location, start, end)`` of every stretch the evaluation of ``vial`` reads: each stretch cut at
    each evaluation time after its start, and the silent stretches."""
    out: list[tuple[int, float, float]] = []
    times = vial.times.tolist()
    received = [c.ts for c in vial.carried]
    for span in spans(vial.events, times[-1]) if times else []:
        first, last = reach(times, span.start, received)
        ends = {min(t, span.end) for t in times[first:last]}
        out += [(span.location_id, span.start, end) for end in sorted(ends)]
    if vial.silence_from is not None and vial.now is not None:
        for span in silent_stretches(vial.events, vial.silence_from, vial.now):
            out.append((span.location_id, span.start, span.end))
    return out


def ledger_times(vial: VialInputs) -> dict[int, set[float]]:
    """Per location, the times the evaluation of ``vial`` reads its ledgers at: the ends of its cuts."""
    out: dict[int, set[float]] = {}
    for location, start, end in cuts(vial):
        out.setdefault(location, set()).update((start, end))
    return out
