"""What the potency model needs of a site's vials, loaded from central's PostgreSQL copy of the site.

The same two steps as the site's own loader (:mod:`monitor.store.model_inputs`): the vials' events and,
for each location they have been in, its sensors and first and newest readings; then the shared plan
(:func:`monitor.model.input_plan.plan`) says at which times each location's ledgers are asked, and one
statement per kind of input reads them for every sensor at once: the ledgers at those times (their
bracketing readings, interpolated by :func:`monitor.model.ledger.value_at` as at the site), the light
sensors' gaps, saturated readings and hourly maxima, the raw temperatures a drug needs. Nothing loops
over readings in Python; the model (:func:`monitor.model.evaluation.evaluate`) then computes from the
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

import numpy as np
import psycopg

from fleet.central import sensor_reads
from fleet.central.site_config import SiteLocation, SiteSensor
from monitor.model import carried_states, input_plan, stretches
from monitor.model.inputs import (
    CarriedState,
    EventFacts,
    LatestLight,
    LedgerAt,
    LightRecord,
    LocationInputs,
    ModelInputs,
    TemperatureRecord,
    VialInputs,
)
from monitor.model.kinetics import FloatArray
from monitor.model.profiles import UNKNOWN_LAMP, Catalog
from monitor.model.quantities import Quantity
from monitor.store.vials import VialRecord

Connection = psycopg.Connection[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Refusal:
    vial_key: str
    reason: str


@dataclass(frozen=True, slots=True)
class CentralInputs:
    """The model's inputs for the vials central can evaluate (``vials``, in the order of ``inputs``), and
    a refusal for each of the others."""

    vials: tuple[VialRecord, ...]
    inputs: ModelInputs
    refused: tuple[Refusal, ...]


@dataclass(frozen=True, slots=True)
class _Events:
    by_vial: dict[int, tuple[EventFacts, ...]]
    unknown_location: dict[int, str]  # vial id -> a location key its events name that central lacks


def _events(conn: Connection, site: str, chosen: Sequence[VialRecord], by_key: Mapping[str, int]) -> _Events:
    """Each vial's events in time order (the site's order: time, then its event id), in one statement."""
    ids = {v.key: v.id for v in chosen}
    out: dict[int, list[EventFacts]] = {v.id: [] for v in chosen}
    unknown: dict[int, str] = {}
    for vial, ts, kind, location, packaging in conn.execute(
        "SELECT record->>'vial', record->'ts', record->>'kind', record->>'location', record->>'packaging'"
        " FROM site_records WHERE site = %s AND kind = 'vial-event' AND record->>'vial' = ANY(%s)"
        " ORDER BY record->>'vial', (record->>'ts')::float8, (record->>'id')::bigint",
        (site, list(ids)),
    ).fetchall():
        vial_id = ids[vial]
        location_id = None if location is None else by_key.get(location)
        if location is not None and location_id is None:
            unknown.setdefault(vial_id, location)
        out[vial_id].append(EventFacts(float(ts), str(kind), location_id, packaging))
    return _Events({v: tuple(e) for v, e in out.items()}, unknown)


def _carried(
    conn: Connection, site: str, chosen: Sequence[VialRecord]
) -> dict[int, tuple[CarriedState, ...]]:
    """Each vial's receipts from other sites with the state each brought, in the site's order (time, then
    its id), read from the hand-over rows the site sent: what the site's own loader adds, added here."""
    ids = {v.key: v.id for v in chosen}
    out: dict[int, list[CarriedState]] = {}
    for vial, ts, peer, document in conn.execute(
        "SELECT record->>'vial', record->'ts', record->>'peer_site', record->'document'"
        " FROM site_records WHERE site = %s AND kind = 'vial-handover' AND record->>'direction' = 'in'"
        " AND record->>'vial' = ANY(%s)"
        " ORDER BY record->>'vial', (record->>'ts')::float8, (record->>'id')::bigint",
        (site, list(ids)),
    ).fetchall():
        out.setdefault(ids[vial], []).append(carried_states.receipt(float(ts), str(peer), document))
    return {v: tuple(c) for v, c in out.items()}


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


@dataclass(frozen=True, slots=True)
class Visited:
    """One site's locations a load visits, under the plan's ids, with their primary sensors and each
    sensor's first and newest reading: what the plan and the later reads need of them."""

    site: str
    located: Mapping[int, SiteLocation]  # by the plan's location id
    light: Mapping[int, SiteSensor | None]
    temperature: Mapping[int, SiteSensor | None]
    ends: Mapping[str, sensor_reads.Ends]  # by sensor key (keys are the site's, unique within it)

    def newest_light(self) -> dict[int, float | None]:
        """Per location, its light sensor's newest reading's time (None: none, or no sensor)."""
        out: dict[int, float | None] = {}
        for i, sensor in self.light.items():
            found = None if sensor is None else self.ends[sensor.key].newest
            out[i] = None if found is None else found[0]
        return out

    def has_light(self) -> dict[int, bool]:
        return {i: s is not None for i, s in self.light.items()}


def visit(conn: Connection, site: str, located: Mapping[int, SiteLocation]) -> Visited:
    """``located`` (the site's locations a load visits, by the plan's ids) with their primary sensors'
    first and newest readings, two statements."""
    light = {i: loc.primary("light") for i, loc in located.items()}
    temperature = {i: loc.primary("temperature") for i, loc in located.items()}
    ends = sensor_reads.ends(conn, site, "light", [s.key for s in light.values() if s is not None])
    ends |= sensor_reads.ends(
        conn, site, "temperature", [s.key for s in temperature.values() if s is not None]
    )
    return Visited(site, located, light, temperature, ends)


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


def read_locations(
    conn: Connection, visited: Visited, plan: input_plan.Plan, report_lag_seconds: float
) -> dict[int, LocationInputs]:
    """What the model reads of ``visited``'s locations at the times ``plan`` asks, by the plan's ids."""
    site, located, light, temperature, ends = (
        visited.site,
        visited.located,
        visited.light,
        visited.temperature,
        visited.ends,
    )
    light_times = {s: plan.times(i) for i, s in light.items() if s is not None}
    temperature_times = {s: plan.times(i) for i, s in temperature.items() if s is not None}
    light_ledgers = sensor_reads.ledgers(conn, site, "light", light_times)
    temperature_ledgers = sensor_reads.ledgers(conn, site, "temperature", temperature_times)
    gaps = sensor_reads.gaps(conn, site, light_times)
    saturated = sensor_reads.saturated(conn, site, light_times)
    hours = sensor_reads.hour_maxima(
        conn,
        site,
        {s: plan.cuts[i] for i, s in light.items() if s is not None and located[i].worst_case_lux is None},
    )
    series = sensor_reads.series(
        conn, site, {s: plan.times(i) for i, s in temperature.items() if s is not None and i in plan.series}
    )
    out: dict[int, LocationInputs] = {}
    for i, loc in located.items():
        lux, heat = light[i], temperature[i]
        out[i] = LocationInputs(
            id=i,
            lamp=loc.lamp or UNKNOWN_LAMP,
            worst_case_lux=loc.worst_case_lux,
            light=None
            if lux is None
            else _light_record(
                lux, ends[lux.key], light_ledgers[lux.key], gaps, saturated, hours, report_lag_seconds
            ),
            temperature=None
            if heat is None
            else _temperature_record(heat, ends[heat.key], temperature_ledgers[heat.key], series),
            spectral=None,
            uv=None,
        )
    return out


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
    by_key = {loc.key: i for i, loc in located.items()}
    events = _events(conn, site, chosen, by_key)
    refused: dict[int, str] = {}
    for vial in chosen:
        if vial.drug not in catalog.drugs or vial.form not in catalog.drugs[vial.drug].forms:
            refused[vial.id] = f"central's catalog lacks {vial.drug}/{vial.form}"
        elif vial.id in events.unknown_location:
            refused[vial.id] = str(_refusal_of_location(None, events.unknown_location[vial.id]))
        else:
            reason = refusal_of_locations(events.by_vial[vial.id], located)
            if reason is not None:
                refused[vial.id] = reason
    kept = [v for v in chosen if v.id not in refused]
    mine = {v.id: events.by_vial[v.id] for v in kept}
    visited = visit(conn, site, {i: located[i] for i in input_plan.visited(mine)})
    plan = input_plan.plan(
        catalog,
        kept,
        mine,
        visited.newest_light(),
        visited.has_light(),
        now=now,
        curve_points=curve_points,
        curve_events=curve_events,
        carried=_carried(conn, site, kept),
    )
    for vial_inputs in plan.vials:
        reason = refusal_of_history(vial_inputs, [visited])
        if reason is not None:
            refused[vial_inputs.id] = reason
    out = read_locations(conn, visited, plan, report_lag_seconds)
    evaluated = tuple(v for v in plan.vials if v.id not in refused)
    records = {v.id: v for v in kept}
    return CentralInputs(
        vials=tuple(records[v.id] for v in evaluated),
        inputs=ModelInputs(vials=evaluated, locations=out),
        refused=tuple(Refusal(v.key, refused[v.id]) for v in chosen if v.id in refused),
    )


def _light_record(
    sensor: SiteSensor,
    ends: sensor_reads.Ends,
    ledger_at: LedgerAt,
    gaps: Mapping[str, FloatArray],
    saturated: Mapping[str, FloatArray],
    hours: Mapping[str, FloatArray],
    lag: float,
) -> LightRecord:
    no_hours = sensor_reads.table([], 2)
    found_gaps = gaps.get(sensor.key, sensor_reads.table([], 2))
    found_saturated = saturated.get(sensor.key, sensor_reads.table([], 2))
    found_hours = hours.get(sensor.key, no_hours)
    nothing = np.empty(0)
    newest = ends.newest
    return LightRecord(
        key=sensor.key,
        calibration_uncertainty_lux=sensor.calibration_uncertainty or 0.0,
        interval_seconds=sensor.interval_seconds,
        max_gap_seconds=sensor.max_gap_seconds,
        ledger=ledger_at,
        first_ts=ends.first_ts,
        last_ts=None if newest is None else newest[0],
        tolerance_seconds=sensor.max_gap_seconds + lag,
        gap_starts=found_gaps[:, 0],
        gap_ends=found_gaps[:, 1],
        hour_ts=found_hours[:, 0],
        hour_max_lux=found_hours[:, 1],
        saturated_ts=found_saturated[:, 0],
        saturated_lux=found_saturated[:, 1],
        # Central keeps the raw readings: no minute stands for them (at the site, only past retention).
        minute_first_ts=nothing,
        minute_last_ts=nothing,
        minute_saturated=nothing,
        minute_saturated_lux=nothing,
        latest=None if newest is None else LatestLight(*newest),
    )


def _temperature_record(
    sensor: SiteSensor, ends: sensor_reads.Ends, ledger_at: LedgerAt, series: Mapping[str, FloatArray]
) -> TemperatureRecord:
    raw = series.get(sensor.key)
    return TemperatureRecord(
        key=sensor.key,
        calibration_uncertainty_celsius=sensor.calibration_uncertainty or 0.0,
        max_gap_seconds=sensor.max_gap_seconds,
        ledger=ledger_at,
        series_ts=None if raw is None else raw[:, 0],
        series_celsius=None if raw is None else raw[:, 1],
        latest_celsius=None if ends.newest is None else ends.newest[1],
    )
