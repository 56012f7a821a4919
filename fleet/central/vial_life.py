"""A vial's whole life at central: every site's part of it, evaluated as one with the same model code.

The site holding a received vial goes on from the state the hand-over document carried
(:mod:`monitor.model.carried_states`). Central holds every site's ledgers, so it need carry nothing: it
reads the vial's events and hand-overs at every site (:mod:`fleet.central.vial_journey` joins them into
stays), gives each site's locations an id unique across the fleet (``(site, location)`` numbered in the
order the vial met them), plans the evaluation over the whole history (:func:`monitor.model.input_plan.
plan`), reads every site's ledgers at the times asked, all sites in the same statements
(:func:`fleet.central.location_reads.read_locations`), and evaluates once
(:func:`monitor.model.evaluation.evaluate`); the verdict is the one decision (:func:`monitor.assessment.
judged`) with the thresholds of the site holding the vial now, at its clock.

Where any part of the life cannot be evaluated as its site would (a site's settings missing or another
version, a spectral sensor, readings central no longer holds, a stay whose hand-over or receipt central
lacks), the answer is a refusal with the reason, not a different figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from fleet.central import fleet_view, location_reads, model_inputs, site_config, vial_journey
from fleet.central.fleet_view import SiteFacts
from fleet.central.site_config import SiteLocation
from fleet.central.vial_journey import HandoverRow, Journey, SiteEvent
from monitor.assessment import judged
from monitor.errors import NotFound
from monitor.exposure import named
from monitor.model import evaluation, input_plan
from monitor.model.bounds import Interval
from monitor.model.inputs import EventFacts, ModelInputs
from monitor.model.profiles import Catalog
from monitor.model.verdict import VialVerdict
from monitor.store.vials import VialRecord
from monitor.version import version

Connection = psycopg.Connection[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Place:
    """A location in the whole life's inputs: its id there and where it is in the fleet."""

    id: int
    site: str
    key: str


@dataclass(frozen=True, slots=True)
class VialLife:
    """The whole life's answer: where the vial is now and its figures, or ``refused`` with the reason."""

    key: str
    record: VialRecord  # as the site holding it now has it; registered_ts its first registration
    journey: Journey
    site: str  # the site holding it now (or that handed it over last)
    location: Place | None
    packaging: str | None
    as_of: float | None
    potency_percent: Interval | None
    verdict: VialVerdict | None
    uncertainty: tuple[str, ...]
    refused: str | None


def _records(conn: Connection, key: str) -> dict[str, VialRecord]:
    return {
        site: VialRecord(int(i), key, drug, form, lot, expiry, float(f0), float(registered), status)
        for site, i, drug, form, lot, expiry, f0, registered, status in conn.execute(
            "SELECT site, site_id, drug, form, lot, expiry, initial_potency_percent, registered_ts, status"
            " FROM site_vials WHERE key = %s ORDER BY site",
            (key,),
        ).fetchall()
    }


def journey(conn: Connection, key: str, sites: Sequence[str], *, partial: bool = False) -> Journey:
    """The vial's stays at ``sites`` joined, from the events and hand-over rows they sent, two
    statements (``partial``: :func:`fleet.central.vial_journey.join`'s)."""
    events: dict[str, list[SiteEvent]] = {s: [] for s in sites}
    for site, i, ts, kind, location, packaging in conn.execute(
        "SELECT site, (record->>'id')::bigint, record->'ts', record->>'kind', record->>'location',"
        " record->>'packaging' FROM site_records WHERE kind = 'vial-event' AND record->>'vial' = %s"
        " AND site = ANY(%s) ORDER BY site, (record->>'ts')::float8, (record->>'id')::bigint",
        (key, list(sites)),
    ).fetchall():
        events[site].append(SiteEvent(int(i), float(ts), str(kind), location, packaging))
    handovers: dict[str, list[HandoverRow]] = {s: [] for s in sites}
    for site, event_id, direction, ts, peer, checksum in conn.execute(
        "SELECT site, (record->>'event_id')::bigint, record->>'direction', record->'ts',"
        " record->>'peer_site', record->>'checksum' FROM site_records WHERE kind = 'vial-handover'"
        " AND record->>'vial' = %s AND site = ANY(%s)",
        (key, list(sites)),
    ).fetchall():
        handovers[site].append(
            HandoverRow(int(event_id), str(direction), float(ts), str(peer), str(checksum))
        )
    stays = [s for site in sites for s in vial_journey.stays_at(site, events[site], handovers[site])]
    return vial_journey.join(key, stays, partial=partial)


def _refusal(
    facts: Mapping[str, SiteFacts], sites: Sequence[str], code: str, catalog: Catalog, record: VialRecord
) -> str | None:
    for site in sites:
        found = facts.get(site)
        reason = (
            "central does not know the site" if found is None else fleet_view.refusal_of_site(found, code)
        )
        if reason is not None:
            return f"at {site}: {reason}"
    if record.drug not in catalog.drugs or record.form not in catalog.drugs[record.drug].forms:
        return f"central's catalog lacks {record.drug}/{record.form}"
    return None


def whole_life(
    conn: Connection,
    catalog: Catalog,
    key: str,
    central_now: float,
    *,
    at: float | None = None,
    leave_out: frozenset[str] = frozenset(),
) -> VialLife:
    """The vial ``key``'s whole life across the fleet, judged at ``at`` or at the clock of the site
    holding it now as central knows it. ``leave_out``: sites whose part to ignore (a check that every
    part counts); :class:`NotFound` when no site has sent the vial."""
    records = _records(conn, key)
    if not records:
        raise NotFound(f"no site has sent central a vial {key!r}")
    sites = [s for s in records if s not in leave_out]
    found = journey(conn, key, sites, partial=bool(leave_out))
    facts = fleet_view.site_facts(conn)
    here = found.stays[-1].site if found.stays else max(records, key=lambda s: records[s].registered_ts)
    first = found.stays[0].site if found.stays else here
    record = replace(records[here], registered_ts=records[first].registered_ts)
    now = at
    if now is None:
        now = fleet_view.site_clock(facts[here], central_now) if here in facts else central_now

    def refused(reason: str) -> VialLife:
        return VialLife(key, record, found, here, None, None, None, None, None, (), reason)

    if found.broken is not None:
        return refused(found.broken)
    visited_sites = list(dict.fromkeys(s.site for s in found.stays))
    reason = _refusal(facts, visited_sites, version(), catalog, record)
    if reason is not None:
        return refused(reason)
    located = site_config.locations_of(conn, visited_sites)
    places: dict[tuple[str, str], Place] = {}
    site_ids: dict[str, dict[int, SiteLocation]] = {site: {} for site in visited_sites}
    for stay in found.stays:
        by_key = {loc.key: loc for loc in located[stay.site].values()}
        for event in stay.events:
            if event.location is None or (stay.site, event.location) in places:
                continue
            if event.location not in by_key:
                return refused(
                    f"at {stay.site}: its events name location {event.location!r}, which central does not"
                    " hold for the site"
                )
            place = Place(len(places) + 1, stay.site, event.location)
            places[(stay.site, event.location)] = place
            site_ids[stay.site][place.id] = by_key[event.location]
    for site, ids in site_ids.items():
        reason = model_inputs.refusal_of_locations(
            [e for s in found.stays if s.site == site for e in _facts(s.events, places, s.site)], ids
        )
        if reason is not None:
            return refused(f"at {site}: {reason}")
    events = vial_journey.whole_life_events(found, lambda s, k: places[(s, k)].id)
    visits = location_reads.visits(conn, list(site_ids.items()))
    newest: dict[int, float | None] = {}
    has_light: dict[int, bool] = {}
    for v in visits:
        newest |= v.newest_light()
        has_light |= v.has_light()
    plan = input_plan.plan(catalog, [record], {record.id: events}, newest, has_light, now=now)
    (vial_inputs,) = plan.vials
    reason = model_inputs.refusal_of_history(vial_inputs, visits)
    if reason is not None:
        return refused(reason)
    lags = {v.site: facts[v.site].report_lag_seconds for v in visits}
    locations = location_reads.read_locations(conn, visits, plan, lags)
    thresholds = facts[here].thresholds
    assert thresholds is not None  # refusal_of_site refuses a site without them
    (e,) = evaluation.evaluate(ModelInputs((vial_inputs,), locations), catalog, thresholds.critical_percent)
    (a,) = judged([named(record, e)], thresholds, now)
    p = a.potency
    by_id = {place.id: place for place in places.values()}
    return VialLife(
        key,
        record,
        found,
        here,
        None if p.location_id is None else by_id[p.location_id],
        p.packaging,
        p.as_of,
        p.percent_range,
        a.verdict,
        p.uncertainty,
        None,
    )


def _facts(
    events: Sequence[SiteEvent], places: Mapping[tuple[str, str], Place], site: str
) -> list[EventFacts]:
    """A stay's events as the model reads them, with the whole life's location ids."""
    return [
        EventFacts(e.ts, e.kind, None if e.location is None else places[(site, e.location)].id, e.packaging)
        for e in events
    ]
