"""Recording what happens to a vial, at its true time, after checking it makes sense.

A vial's life is a sequence of events (``monitor.store.vials``): registered, moved, packaging changed,
reconstituted, administered, discarded. Events are often recorded after the fact ("moved to the bench at
09:10", entered at 09:40): each carries the time it happened, and the potency is recomputed from the events
in time order, so a late entry corrects every later figure. Refusals name the field at fault
(``location: unknown location 'bench'; known: fridge-1``), and nothing already recorded changes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from monitor.errors import InvalidRequest
from monitor.model.profiles import Catalog
from monitor.store import sites
from monitor.store import vials as vial_store
from monitor.store.vials import END_KINDS, EventKind, VialRecord
from monitor.timestamps import check_ts, format_utc

# Clocks on a phone or a ward PC drift: an event up to this far ahead of ours is taken as "now-ish".
FUTURE_TOLERANCE_SECONDS = 120.0

# Which fields each kind needs (True), may carry (None) or must not carry (False).
_FIELDS: dict[EventKind, tuple[bool | None, bool | None]] = {
    "moved": (True, None),
    "packaging-changed": (None, True),
    "reconstituted": (None, None),
    "administered": (False, False),
    "discarded": (False, False),
}


@dataclass(frozen=True, slots=True)
class NewEvent:
    kind: str
    ts: float
    location: str | None = None  # location key
    packaging: str | None = None  # packaging state key
    detail: str = ""


def _iso(ts: float) -> str:
    return format_utc(ts)


def _check_field(kind: str, name: str, value: str | None, rule: bool | None) -> None:
    if rule is True and value is None:
        raise InvalidRequest(f"{name}: required for a {kind} event")
    if rule is False and value is not None:
        raise InvalidRequest(f"{name}: a {kind} event takes no {name}")


def record_event(
    conn: sqlite3.Connection, catalog: Catalog, vial: VialRecord, event: NewEvent, now: float
) -> int:
    """Validate ``event`` against the vial's history and store it; returns the event id.

    Call inside a transaction. Raises :class:`InvalidRequest` naming the field (``kind``, ``at``,
    ``location``, ``packaging``) and the reason.
    """
    if event.kind == "registered":
        raise InvalidRequest("kind: a vial is registered once, with POST /api/v1/vials")
    if event.kind in ("handed-over", "received"):
        raise InvalidRequest(
            f"kind: a vial is {event.kind} with POST /api/v1/vials/{{key}}/hand-over and"
            " /api/v1/vials/receive, which carry its state between sites"
        )
    if event.kind not in _FIELDS:
        raise InvalidRequest(f"kind: unknown event kind {event.kind!r}; known: {', '.join(_FIELDS)}")
    kind: EventKind = event.kind  # narrowed by the membership test just above
    needs_location, needs_packaging = _FIELDS[kind]
    _check_field(kind, "location", event.location, needs_location)
    _check_field(kind, "packaging", event.packaging, needs_packaging)
    check_ts("at", event.ts)  # the command line's --at as much as the API's
    if event.ts > now + FUTURE_TOLERANCE_SECONDS:
        raise InvalidRequest(f"at: {_iso(event.ts)} is in the future (now {_iso(now)})")
    if event.ts < vial.registered_ts:
        raise InvalidRequest(
            f"at: {_iso(event.ts)} is before the vial was registered ({_iso(vial.registered_ts)})"
        )
    history = vial_store.events(conn, vial.id)
    if vial.status == "handed-over":
        gone = next(e for e in reversed(history) if e.kind == "handed-over")
        raise InvalidRequest(
            f"kind: the vial was handed over to another site at {_iso(gone.ts)}; it is recorded there now"
        )
    arrived = [e for e in history if e.kind == "received"]
    if arrived and event.ts < arrived[-1].ts:
        raise InvalidRequest(
            f"at: {_iso(event.ts)} is before the vial was received here ({_iso(arrived[-1].ts)});"
            " what happened before is in the state it came with"
        )
    ended = next((e for e in history if e.kind in END_KINDS), None)
    if ended is not None and ended.ts <= event.ts:
        raise InvalidRequest(
            f"kind: the vial was {ended.kind} at {_iso(ended.ts)}; nothing happens to it after"
        )
    if kind in END_KINDS and history and history[-1].ts > event.ts:
        last = history[-1]
        raise InvalidRequest(
            f"at: the vial was {last.kind} later, at {_iso(last.ts)}; it cannot be {kind} before that"
        )
    if kind == "reconstituted":
        done = next((e for e in history if e.kind == "reconstituted"), None)
        if done is not None:
            raise InvalidRequest(f"kind: the vial was already reconstituted at {_iso(done.ts)}")
    location_id = None
    if event.location is not None:
        known = {loc.key: loc.id for loc in sites.list_locations(conn)}
        if event.location not in known:
            raise InvalidRequest(
                f"location: unknown location {event.location!r}; known: {', '.join(sorted(known))}"
            )
        location_id = known[event.location]
    if event.packaging is not None:
        try:
            catalog.tau(event.packaging)
        except InvalidRequest as exc:
            raise InvalidRequest(f"packaging: {exc}") from None
    return vial_store.add_event(
        conn,
        vial_id=vial.id,
        ts=event.ts,
        kind=kind,
        location_id=location_id,
        packaging=event.packaging,
        detail=event.detail,
        recorded_ts=now,
    )
