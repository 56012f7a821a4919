"""What the potency model needs of the sites' vials, loaded from central's PostgreSQL copy of the sites.

The same two steps as the site's own loader (:mod:`monitor.store.model_inputs`): the vials' events and,
for each location they have been in, its sensors and first and newest readings; then the shared plan
(:func:`monitor.model.input_plan.plan`) says at which times each location's ledgers are asked, and one
statement per kind of input reads them for every sensor at once: the ledgers at those times (their
bracketing readings, interpolated by :func:`monitor.model.ledger.value_at` as at the site), the light
sensors' gaps, saturated readings and hourly maxima, the raw temperatures a drug needs
(:mod:`fleet.central.location_reads`). Every site of a load is read by the same statements, ten whatever
the number of sites (:func:`load_sites`), each planned at its own clock. Nothing loops over readings in
Python; the model (:func:`monitor.model.evaluation.evaluate`) then computes from the
result alone, so central's answer is the site's.

Central keeps times to the microsecond (``timestamptz``); the site keeps its float seconds. Event times
and a vial's registration travel exactly (17 digits); a reading's time is rounded to the microsecond,
which moves a ledger value by the dose of at most half a microsecond.

A vial central cannot evaluate as the site would is **refused**, with the reason, rather than answered
differently (:class:`Refusal`): a location whose light is measured by a spectral or UV sensor (those
ledgers stay at the site), an event naming a location central does not hold, a ledger asked before the
first reading central holds where the site had accumulated light or heat before it (readings central
never received, or dropped by its retention), a drug or form central's catalog lacks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from fleet.central.location_reads import Visited, merged, read_locations, visits
from fleet.central.site_config import SiteLocation
from monitor.model import carried_states, input_plan, stretches
from monitor.model.inputs import CarriedState, EventFacts, ModelInputs, VialInputs
from monitor.model.profiles import Catalog
from monitor.model.quantities import Quantity
from monitor.store.vials import VialRecord

Connection = psycopg.Connection[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Refusal:
    vial_key: str
    reason: str


@dataclass(frozen=True, slots=True)
class SiteAsk:
    """One site's part of a load: its vials, its locations by the site's ids, the bridge's commit window
    and the site's clock (``now``: a silence up to it widens the low bound)."""

    site: str
    vials: Sequence[VialRecord]
    located: Mapping[int, SiteLocation]
    report_lag_seconds: float
    now: float | None


@dataclass(frozen=True, slots=True)
class CentralInputs:
    """The model's inputs for the vials central can evaluate (``vials``, in the order of ``inputs``), and
    a refusal for each of the others. ``located``: the site's locations by the ids ``inputs`` uses (the
    site's own for a load of one site; for several, numbered apart across the load, in the site's order)."""

    vials: tuple[VialRecord, ...]
    inputs: ModelInputs
    refused: tuple[Refusal, ...]
    located: Mapping[int, SiteLocation]


@dataclass(frozen=True, slots=True)
class _Events:
    by_vial: dict[int, tuple[EventFacts, ...]]
    unknown_location: dict[int, str]  # vial id -> a location key its events name that central lacks


def _numbered(asks: Sequence[SiteAsk]) -> list[dict[int, SiteLocation]]:
    """Each site's locations under ids unique across the load: the site's own id plus the largest id of
    the sites before (the first site keeps its own; each site's order stays its own)."""
    out: list[dict[int, SiteLocation]] = []
    offset = 0
    for ask in asks:
        out.append({offset + i: loc for i, loc in sorted(ask.located.items())})
        offset += max(ask.located, default=0)
    return out


def _events(
    conn: Connection, asks: Sequence[SiteAsk], numbered: Sequence[Mapping[int, SiteLocation]]
) -> list[_Events]:
    """Each vial's events in time order (the site's order: time, then its event id), every site's in one
    statement."""
    ids = {(a.site, v.key): (k, v.id) for k, a in enumerate(asks) for v in a.vials}
    by_key = [{loc.key: i for i, loc in located.items()} for located in numbered]
    out: list[dict[int, list[EventFacts]]] = [{v.id: [] for v in a.vials} for a in asks]
    unknown: list[dict[int, str]] = [{} for _ in asks]
    for site, vial, ts, kind, location, packaging in conn.execute(
        "SELECT q.site, q.vial, r.record->'ts', r.record->>'kind', r.record->>'location',"
        " r.record->>'packaging' FROM unnest(%s::text[], %s::text[]) AS q(site, vial)"
        " JOIN site_records AS r ON r.site = q.site AND r.kind = 'vial-event' AND r.record->>'vial' = q.vial"
        " ORDER BY q.site, q.vial, (r.record->>'ts')::float8, (r.record->>'id')::bigint",
        ([site for site, _ in ids], [vial for _, vial in ids]),
    ).fetchall():
        k, vial_id = ids[(site, vial)]
        location_id = None if location is None else by_key[k].get(location)
        if location is not None and location_id is None:
            unknown[k].setdefault(vial_id, location)
        out[k][vial_id].append(EventFacts(float(ts), str(kind), location_id, packaging))
    return [
        _Events({v: tuple(e) for v, e in mine.items()}, lost) for mine, lost in zip(out, unknown, strict=True)
    ]


def _carried(
    conn: Connection, kept: Sequence[tuple[str, Sequence[VialRecord]]]
) -> list[dict[int, tuple[CarriedState, ...]]]:
    """Each vial's receipts from other sites with the state each brought, in the site's order (time, then
    its id), read from the hand-over rows the sites sent, every site's in one statement: what the site's
    own loader adds, added here."""
    ids = {(site, v.key): (k, v.id) for k, (site, vials) in enumerate(kept) for v in vials}
    out: list[dict[int, list[CarriedState]]] = [{} for _ in kept]
    for site, vial, ts, peer, document in conn.execute(
        "SELECT q.site, q.vial, r.record->'ts', r.record->>'peer_site', r.record->'document'"
        " FROM unnest(%s::text[], %s::text[]) AS q(site, vial)"
        " JOIN site_records AS r ON r.site = q.site AND r.kind = 'vial-handover'"
        " AND r.record->>'direction' = 'in' AND r.record->>'vial' = q.vial"
        " ORDER BY q.site, q.vial, (r.record->>'ts')::float8, (r.record->>'id')::bigint",
        ([site for site, _ in ids], [vial for _, vial in ids]),
    ).fetchall():
        k, vial_id = ids[(site, vial)]
        out[k].setdefault(vial_id, []).append(carried_states.receipt(float(ts), str(peer), document))
    return [{v: tuple(c) for v, c in mine.items()} for mine in out]


def _refusal_of_location(location: SiteLocation | None, key: str) -> str | None:
    if location is None:
        return f"its events name location {key!r}, which central does not hold for the site"
    spectral = next((s for s in location.sensors if s.quantity == "light" and s.spectral), None)
    if spectral is not None:
        return (
            f"the light at {location.key!r} is measured by the spectral sensor {spectral.key!r}, whose"
            " ledgers stay at the site: central cannot reproduce the site's κ_s"
        )
    return None


def refusal_of_history(vial: VialInputs, visits: Sequence[Visited]) -> str | None:
    """A ledger asked before the first reading central holds, where the site had accumulated some."""
    quantities: tuple[Quantity, ...] = ("light", "temperature")
    for loc_id, times in stretches.ledger_times(vial).items():
        visited = next(v for v in visits if loc_id in v.located)
        for sensor in (visited.located[loc_id].primary(q) for q in quantities):
            end = None if sensor is None else visited.ends.get(sensor.key)
            if sensor is None or end is None or end.first_ts is None or not end.first_cumulative:
                continue
            if min(times) < end.first_ts:
                where = "" if len(visits) == 1 else f" at {visited.site}"
                return (
                    f"central holds {sensor.key!r}'s readings{where} only from {end.first_ts:.6f}, where"
                    f" the site's ledger stood at {end.first_cumulative:g} already, and the vial needs it"
                    " before"
                )
    return None


def refusal_of_locations(
    vial_events: Sequence[EventFacts], located: Mapping[int, SiteLocation]
) -> str | None:
    """Why central cannot evaluate a vial that has been at these locations as the site would, if so."""
    for loc_id in input_plan.visited({0: tuple(vial_events)}):
        reason = _refusal_of_location(located[loc_id], located[loc_id].key)
        if reason is not None:
            return reason
    return None


def load(
    conn: Connection,
    catalog: Catalog,
    site: str,
    chosen: Sequence[VialRecord],
    located: Mapping[int, SiteLocation],
    report_lag_seconds: float,
    *,
    now: float | None,
    curve_points: int | None = None,
    curve_events: bool = True,
) -> CentralInputs:
    """What the model needs to evaluate ``chosen`` (the site's vials) as of their latest data, the low
    bound widened by a silence up to ``now`` (the site's clock), as the site's own list does; or with
    ``curve_points``, at that many times from registration to the latest data (and at the events' times,
    ``curve_events``), as the site's potency curve asks (:func:`monitor.series.potency_curve`)."""
    (only,) = load_sites(
        conn,
        catalog,
        [SiteAsk(site, chosen, located, report_lag_seconds, now)],
        curve_points=curve_points,
        curve_events=curve_events,
    )
    return only


def load_sites(
    conn: Connection,
    catalog: Catalog,
    asks: Sequence[SiteAsk],
    *,
    curve_points: int | None = None,
    curve_events: bool = True,
) -> list[CentralInputs]:
    """:func:`load` for every site of ``asks`` at once, in a fixed number of statements (ten, whatever the
    number of sites), each site planned at its own clock; one answer per ask, in order. The locations are
    numbered apart across the sites (:attr:`CentralInputs.located`), so the answers' inputs can be
    evaluated together."""
    numbered = _numbered(asks)
    events = _events(conn, asks, numbered)
    refused: list[dict[int, str]] = [{} for _ in asks]
    for k, ask in enumerate(asks):
        for vial in ask.vials:
            if vial.drug not in catalog.drugs or vial.form not in catalog.drugs[vial.drug].forms:
                refused[k][vial.id] = f"central's catalog lacks {vial.drug}/{vial.form}"
            elif vial.id in events[k].unknown_location:
                refused[k][vial.id] = str(_refusal_of_location(None, events[k].unknown_location[vial.id]))
            else:
                reason = refusal_of_locations(events[k].by_vial[vial.id], numbered[k])
                if reason is not None:
                    refused[k][vial.id] = reason
    kept = [[v for v in ask.vials if v.id not in refused[k]] for k, ask in enumerate(asks)]
    mine = [{v.id: events[k].by_vial[v.id] for v in kept[k]} for k in range(len(asks))]
    visited = visits(
        conn,
        [(ask.site, {i: numbered[k][i] for i in input_plan.visited(mine[k])}) for k, ask in enumerate(asks)],
    )
    carried = _carried(conn, [(ask.site, kept[k]) for k, ask in enumerate(asks)])
    plans = [
        input_plan.plan(
            catalog,
            kept[k],
            mine[k],
            visited[k].newest_light(),
            visited[k].has_light(),
            now=ask.now,
            curve_points=curve_points,
            curve_events=curve_events,
            carried=carried[k],
        )
        for k, ask in enumerate(asks)
    ]
    for k, plan in enumerate(plans):
        for vial_inputs in plan.vials:
            reason = refusal_of_history(vial_inputs, [visited[k]])
            if reason is not None:
                refused[k][vial_inputs.id] = reason
    out = read_locations(conn, visited, merged(plans), {a.site: a.report_lag_seconds for a in asks})
    answers: list[CentralInputs] = []
    for k, ask in enumerate(asks):
        evaluated = tuple(v for v in plans[k].vials if v.id not in refused[k])
        records = {v.id: v for v in kept[k]}
        answers.append(
            CentralInputs(
                vials=tuple(records[v.id] for v in evaluated),
                inputs=ModelInputs(vials=evaluated, locations={i: out[i] for i in visited[k].located}),
                refused=tuple(Refusal(v.key, refused[k][v.id]) for v in ask.vials if v.id in refused[k]),
                located=numbered[k],
            )
        )
    return answers
