"""A vial's way through the fleet: its stays at each site, joined at each hand-over, from every site's
events and hand-over rows as central holds them.

A vial's key is unique in the organisation, so every site that has held it sends its events under that
key. At each site they are cut into **stays**: from its registration or a receipt to the hand-over that
took it away (or to now). A hand-over at one site and the receipt at the next carry the same document,
so the same checksum: that, not the order of the two sites' event ids or times, joins a stay to the
next. The ids are each site's own, so at the hand-over's instant a receipt at the later site can have the
smaller id or even sort first: merging the sites' events by (time, id) would put the vial at the new
site before it left the old one. Following the checksums avoids that.

:func:`whole_life_events` then writes the joined stays as one site's events would read: the first stay
as it is, each receipt a ``moved`` to the new site's location at the hand-over's time (with the
packaging the document carried), each hand-over that was received dropped. Evaluated with no carried
state, that is the vial's whole life with the same model code. Pure: rows in, stays and events out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from monitor.model.inputs import EventFacts

REGISTERED = "registered"
RECEIVED = "received"
HANDED_OVER = "handed-over"
MOVED = "moved"


@dataclass(frozen=True, slots=True)
class SiteEvent:
    """One of the vial's events as its site recorded it (``id``: the site's own)."""

    id: int
    ts: float
    kind: str
    location: str | None  # the site's location key
    packaging: str | None


@dataclass(frozen=True, slots=True)
class HandoverRow:
    """A hand-over document a site sent (``out``) or received (``in``), by the event it recorded."""

    event_id: int
    direction: str
    ts: float
    peer_site: str
    checksum: str


@dataclass(frozen=True, slots=True)
class Stay:
    """The vial at one site from its registration or a receipt (``events[0]``) to the hand-over that
    took it away (the last event, ``left`` its document's checksum) or to now (``left`` None)."""

    site: str
    events: tuple[SiteEvent, ...]
    arrived: str | None  # the checksum of the document it was received with; None: registered here
    left: str | None
    left_to: str | None  # the site it was handed over to

    @property
    def start_ts(self) -> float:
        return self.events[0].ts

    @property
    def end_ts(self) -> float | None:
        return self.events[-1].ts if self.left is not None else None


@dataclass(frozen=True, slots=True)
class Journey:
    """The vial's stays in the order it went (``stays``), or why they do not join into one life."""

    key: str
    stays: tuple[Stay, ...]
    in_transit_to: str | None  # handed over last to this site, whose receipt central does not hold
    broken: str | None  # why central cannot join the stays: a part of the life it does not hold


def stays_at(site: str, events: Sequence[SiteEvent], handovers: Sequence[HandoverRow]) -> list[Stay]:
    """The site's stays of the vial, from its events in the site's order (time, then id). Events outside
    a stay (a reconstitution the receiving site copied from the document, before the receipt) belong to
    another site's stay and are left out."""
    by_event = {(h.direction, h.event_id): h for h in handovers}
    out: list[Stay] = []
    current: list[SiteEvent] = []
    arrived: str | None = None
    open_ = False
    for event in events:
        if event.kind in (REGISTERED, RECEIVED):
            if open_:  # a new arrival without a hand-over between: close what was open
                out.append(Stay(site, tuple(current), arrived, None, None))
            receipt = by_event.get(("in", event.id))
            arrived = None if event.kind == REGISTERED else (receipt.checksum if receipt else f"?{event.id}")
            current, open_ = [event], True
        elif open_:
            current.append(event)
            if event.kind == HANDED_OVER:
                sent = by_event.get(("out", event.id))
                out.append(
                    Stay(
                        site,
                        tuple(current),
                        arrived,
                        sent.checksum if sent else f"?{event.id}",
                        sent.peer_site if sent else None,
                    )
                )
                current, open_ = [], False
    if open_:
        out.append(Stay(site, tuple(current), arrived, None, None))
    return out


def join(key: str, stays: Sequence[Stay], *, partial: bool = False) -> Journey:
    """The stays in the order the vial went: from its registration, each hand-over to the receipt of the
    same document. ``broken`` when a stay is left over (a receipt whose hand-over central does not hold,
    or a registration at two sites) or none is a registration; ``partial`` (some sites' parts left out
    on purpose): from the earliest stay when none is a registration."""
    first = [s for s in stays if s.arrived is None]
    if not first and partial and stays:
        first = [min(stays, key=lambda s: s.start_ts)]
    if not first:
        return Journey(
            key,
            (),
            None,
            "central holds no registration of the vial: the site it was first registered at does not"
            " uplink, or has not yet sent it",
        )
    if len(first) > 1:
        sites = ", ".join(sorted({s.site for s in first}))
        return Journey(key, (), None, f"the vial is registered at more than one site ({sites})")
    by_arrival = {s.arrived: s for s in stays if s.arrived is not None}
    chain = [first[0]]
    while chain[-1].left is not None and chain[-1].left in by_arrival and len(chain) <= len(stays):
        chain.append(by_arrival[chain[-1].left])
    last = chain[-1]
    in_transit = last.left_to if last.left is not None else None
    left_over = [s for s in stays if s not in chain]
    if left_over:
        s = left_over[0]
        return Journey(
            key,
            tuple(chain),
            in_transit,
            f"the vial's receipt at {s.site} at {s.start_ts!r} joins no hand-over central holds",
        )
    return Journey(key, tuple(chain), in_transit, None)


def whole_life_events(
    journey: Journey, location_id: Callable[[str, str], int | None]
) -> tuple[EventFacts, ...]:
    """The joined stays as one site's events (time order): each receipt a ``moved`` at the hand-over's
    time, each received hand-over dropped; ``location_id(site, key)`` gives the location's id in the
    whole life's inputs, unique across the fleet."""
    out: list[EventFacts] = []
    last = len(journey.stays) - 1
    for n, stay in enumerate(journey.stays):
        for event in stay.events:
            if event.kind == HANDED_OVER and n < last:
                continue  # the next stay's receipt is the move, at the same instant
            kind = MOVED if event.kind == RECEIVED else event.kind
            where = None if event.location is None else location_id(stay.site, event.location)
            out.append(EventFacts(event.ts, kind, where, event.packaging))
    return tuple(out)
