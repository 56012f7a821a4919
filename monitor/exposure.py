"""A vial's potency from its events and its locations' ledgers.

A vial's life is cut into segments at each event (moved, packaging changed); each segment takes the dose
its location's ledger accumulated between the segment's ends. Because the ledger is cumulative, an event
recorded after the fact, or readings that arrive late, give the right answer on the next evaluation.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

import numpy as np

from monitor import kinetics
from monitor.profiles import Catalog
from monitor.store import readings, sites
from monitor.store import vials as vial_store
from monitor.store.vials import VialEvent, VialRecord


@dataclass(frozen=True, slots=True)
class VialPotency:
    vial: VialRecord
    as_of: float
    percent: float
    effective_lux_hours: float
    location_id: int | None
    packaging: str | None


@dataclass(frozen=True, slots=True)
class _Span:
    start: float
    end: float
    location_id: int
    packaging: str


def _spans(events: list[VialEvent], as_of: float) -> list[_Span]:
    spans: list[_Span] = []
    location: int | None = None
    packaging: str | None = None
    start: float | None = None
    for event in events:
        if event.ts > as_of:
            break
        if start is not None and location is not None and packaging is not None and event.ts > start:
            spans.append(_Span(start, event.ts, location, packaging))
        if event.kind in ("administered", "discarded"):
            return spans
        location = event.location_id if event.location_id is not None else location
        packaging = event.packaging if event.packaging is not None else packaging
        start = event.ts
    if start is not None and location is not None and packaging is not None and as_of > start:
        spans.append(_Span(start, as_of, location, packaging))
    return spans


def _current(events: list[VialEvent]) -> tuple[int | None, str | None]:
    location: int | None = None
    packaging: str | None = None
    for event in events:
        location = event.location_id if event.location_id is not None else location
        packaging = event.packaging if event.packaging is not None else packaging
    return location, packaging


def default_as_of(conn: sqlite3.Connection, vial: VialRecord, events: list[VialEvent]) -> float:
    """Evaluate up to the newest light reading at the vial's location, or its end of life."""
    for event in events:
        if event.kind in ("administered", "discarded"):
            return event.ts
    location, _ = _current(events)
    sensor = None if location is None else sites.primary_sensor(conn, location, "light")
    newest = None if sensor is None else readings.latest(conn, sensor)
    return max(vial.registered_ts, newest[0]) if newest is not None else vial.registered_ts


def _reference_hours(
    conn: sqlite3.Connection,
    sensor: sites.SensorRecord | None,
    start: float,
    end: float,
    ea_over_r: float,
    t_ref: float,
) -> float:
    """∫ exp(−(Ea/R)(1/T − 1/T_ref)) dt over [start, end] in hours, for the drug's own Ea."""
    if sensor is None:
        return 0.0
    same = math.isclose(ea_over_r, kinetics.MKT_DELTA_H_OVER_R_KELVIN, rel_tol=1e-9) and math.isclose(
        t_ref, kinetics.LEDGER_T_REF_KELVIN
    )
    if same:  # every shipped profile: the ledger already holds this integral
        return readings.cumulative_at(conn, sensor, end) - readings.cumulative_at(conn, sensor, start)
    points = readings.series(conn, sensor, start, end, limit=10_000_000)
    if len(points) < 2:
        return 0.0
    arr = np.asarray(points, dtype=np.float64)
    factor = kinetics.arrhenius_factor(arr[:, 1] + kinetics.CELSIUS_TO_KELVIN, ea_over_r, t_ref)
    dt = np.diff(arr[:, 0])
    ok = dt <= sensor.max_gap_seconds
    return float(np.sum(np.where(ok, dt * (factor[1:] + factor[:-1]) / 2.0, 0.0)) / 3600.0)


def vial_potency(
    conn: sqlite3.Connection, catalog: Catalog, vial: VialRecord, as_of: float | None = None
) -> VialPotency:
    events = vial_store.events(conn, vial.id)
    when = default_as_of(conn, vial, events) if as_of is None else as_of
    drug = catalog.drug(vial.drug)
    form = catalog.form(vial.drug, vial.form)
    segments: list[kinetics.ExposureSegment] = []
    for span in _spans(events, when):
        light = sites.primary_sensor(conn, span.location_id, "light")
        temp = sites.primary_sensor(conn, span.location_id, "temperature")
        dose = 0.0
        if light is not None:
            dose = readings.cumulative_at(conn, light, span.end) - readings.cumulative_at(
                conn, light, span.start
            )
        segments.append(
            kinetics.ExposureSegment(
                start=span.start,
                end=span.end,
                tau=catalog.tau(span.packaging),
                lux_hours=dose,
                reference_hours=_reference_hours(
                    conn, temp, span.start, span.end, kinetics.ea_over_r(drug), drug.t_ref_kelvin.value
                ),
            )
        )
    estimate = kinetics.potency(
        vial.initial_potency_percent,
        kinetics.photolysis_rate_per_lux_hour(drug, form),
        drug.k_ref_per_hour.value,
        segments,
    )
    location, packaging = _current(events)
    return VialPotency(
        vial=vial,
        as_of=when,
        percent=estimate.percent,
        effective_lux_hours=estimate.effective_lux_hours,
        location_id=location,
        packaging=packaging,
    )
