"""A vial's potency from its events and its locations' ledgers, with bounds and the time it has left.

A vial's life is cut into segments at each event (moved, packaging changed, reconstituted); each segment
takes the dose its location's ledger accumulated between the segment's ends, the location's lamp spectrum
factor κ_s (measured, where a spectral sensor is there: :mod:`monitor.measured_light`) and the packaging's
τ_pkg (photokinetics.md §7). Because the ledger is cumulative and events carry
their true times, an event recorded after the fact, or readings that arrive late, give the right answer on
the next evaluation. The bounds (:mod:`monitor.model.bounds`) take the sensor's calibration uncertainty, the
light it did not see (gaps and saturated readings, bounded by the location's worst-case lux) and the
profile's parameter ranges.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

import numpy as np

from monitor.model import bounds, kinetics
from monitor.model.bounds import Interval
from monitor.model.profiles import Catalog, Constant, DrugModel
from monitor.site_view import SiteView
from monitor.store import readings, sites
from monitor.store import vials as vial_store
from monitor.store.vials import END_KINDS, VialEvent, VialRecord
from tests.monitor.potency_reference import data_bounds, measured_light

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class TimeToThreshold:
    """Hours until the potency reaches ``threshold_percent`` at current conditions (light, temperature).

    ``hours`` is the one to act on: the earlier of the low bound's model time and the label's limit after
    reconstitution; ``limited_by`` says which. Infinity when nothing degrades the vial now.
    """

    threshold_percent: float
    hours: float
    hours_best: float
    hours_low: float
    label_deadline_ts: float | None
    limited_by: str  # "model" | "label"


@dataclass(frozen=True, slots=True)
class VialPotency:
    vial: VialRecord
    as_of: float
    percent: float
    effective_lux_hours: float
    location_id: int | None
    packaging: str | None
    percent_range: Interval
    effective_lux_hours_range: Interval
    lamp: str | None
    reconstituted_ts: float | None
    uncertainty: tuple[str, ...]  # what widened the bounds, in words
    time_to_threshold: TimeToThreshold | None  # None once administered or discarded


@dataclass(frozen=True, slots=True)
class Span:
    start: float
    end: float
    location_id: int
    packaging: str


def spans(events: list[VialEvent], as_of: float) -> list[Span]:
    """The vial's stretches in one location and packaging, from its events, up to ``as_of``."""
    out: list[Span] = []
    location: int | None = None
    packaging: str | None = None
    start: float | None = None
    for event in events:
        if event.ts > as_of:
            break
        if start is not None and location is not None and packaging is not None and event.ts > start:
            out.append(Span(start, event.ts, location, packaging))
        if event.kind in END_KINDS:
            return out
        location = event.location_id if event.location_id is not None else location
        packaging = event.packaging if event.packaging is not None else packaging
        start = event.ts
    if start is not None and location is not None and packaging is not None and as_of > start:
        out.append(Span(start, as_of, location, packaging))
    return out


def _current(events: list[VialEvent]) -> tuple[int | None, str | None]:
    location: int | None = None
    packaging: str | None = None
    for event in events:
        location = event.location_id if event.location_id is not None else location
        packaging = event.packaging if event.packaging is not None else packaging
    return location, packaging


def _ended(events: list[VialEvent]) -> VialEvent | None:
    return next((e for e in events if e.kind in END_KINDS), None)


def _newest_light(site: SiteView, location_id: int) -> float | None:
    sensor = site.sensor(location_id, "light")
    newest = None if sensor is None else readings.latest(site.conn, sensor)
    return None if newest is None else newest[0]


def default_as_of(site: SiteView, vial: VialRecord, events: list[VialEvent]) -> float:
    """Evaluate up to the newest light reading at the vial's location, or its end of life.

    At a location without a light sensor: up to the newest light reading anywhere the vial has been, or
    its latest event, whichever is later.
    """
    end = _ended(events)
    if end is not None:
        return end.ts
    location, _ = _current(events)
    newest = None if location is None else _newest_light(site, location)
    if newest is None and location is not None and site.sensor(location, "light") is None:
        visited = {e.location_id for e in events if e.location_id is not None}
        seen = [t for t in (_newest_light(site, loc) for loc in visited) if t is not None]
        newest = max([*seen, *(e.ts for e in events)], default=None)
    return max(vial.registered_ts, newest) if newest is not None else vial.registered_ts


def reference_hours(
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


def interval_of(c: Constant) -> Interval:
    return Interval(c.value, c.lowest, c.highest)


def light_temperature_factor(
    site: SiteView, drug: DrugModel, location_id: int, start: float, end: float
) -> float:
    """g(T) over a segment, at its mean kinetic temperature (exact for a constant temperature)."""
    if drug.light_activation_energy_kj_per_mol is None:
        return 1.0
    temp = site.sensor(location_id, "temperature")
    if temp is None:
        return 1.0
    conn = site.conn
    equivalent = readings.cumulative_at(conn, temp, end) - readings.cumulative_at(conn, temp, start)
    if equivalent <= 0 or end <= start:
        return 1.0
    kelvin = kinetics.mean_kinetic_temperature_kelvin(equivalent, (end - start) / SECONDS_PER_HOUR)
    return kinetics.light_temperature_factor(drug, kelvin)


def _dose(
    site: SiteView,
    catalog: Catalog,
    location_id: int,
    packaging: str,
    start: float,
    end: float,
    notes: list[str],
) -> tuple[Interval, bool]:
    light = site.sensor(location_id, "light")
    worst = site.light(location_id).worst_case_lux
    assumed = catalog.packaging_state(packaging).unseen_lux
    return data_bounds.dose_range(
        site.conn, light, worst, start, end, notes, None if assumed is None else (packaging, assumed)
    )


def _joint(
    catalog: Catalog, vial: VialRecord, site: SiteView, location_id: int, packaging: str, kappa: Interval
) -> Interval | None:
    """The joint rate where κ_s is the configured lamp's alone (nothing measured it), else None."""
    lamp = site.light(location_id).lamp
    if kappa != interval_of(catalog.lamp(lamp).kappa):
        return None
    r = catalog.light_rate(
        vial.drug, catalog.form(vial.drug, vial.form), catalog.lamp(lamp), catalog.packaging_state(packaging)
    )
    return None if r is None else Interval(r.best, r.low, r.high)


def segment_ranges(
    site: SiteView, catalog: Catalog, vial: VialRecord, drug: DrugModel, spans: list[Span], notes: list[str]
) -> list[bounds.SegmentRange]:
    out: list[bounds.SegmentRange] = []
    for span in spans:
        temp = site.sensor(span.location_id, "temperature")
        tau = catalog.packaging_state(span.packaging).tau
        dose, unbounded = _dose(site, catalog, span.location_id, span.packaging, span.start, span.end, notes)
        kappa = measured_light.span_kappa(
            site, catalog, span.location_id, span.start, span.end, dose.best, notes
        )
        theta = reference_hours(
            site.conn, temp, span.start, span.end, kinetics.ea_over_r(drug), drug.t_ref_kelvin.value
        )
        segment = kinetics.ExposureSegment(
            start=span.start,
            end=span.end,
            tau=tau.value,
            lux_hours=dose.best,
            reference_hours=theta,
            kappa=kappa.best,
            light_temperature_factor=light_temperature_factor(
                site, drug, span.location_id, span.start, span.end
            ),
        )
        thermal = data_bounds.thermal_range(
            drug, temp, theta, (span.end - span.start) / SECONDS_PER_HOUR, notes
        )
        joint = measured_light.span_light_rate(
            site,
            catalog,
            vial.drug,
            vial.form,
            span.location_id,
            span.packaging,
            span.start,
            span.end,
            dose.best,
        )
        out.append(
            bounds.SegmentRange(segment, interval_of(tau), kappa, dose, unbounded, thermal, light_rate=joint)
        )
    return out


def _time_to_threshold(
    site: SiteView,
    catalog: Catalog,
    vial: VialRecord,
    location_id: int | None,
    packaging: str | None,
    percent: Interval,
    k_light: Interval,
    reconstituted_ts: float | None,
    as_of: float,
    threshold_percent: float,
) -> TimeToThreshold:
    drug = catalog.drug(vial.drug)
    form = catalog.form(vial.drug, vial.form)
    rate_best = rate_low = drug.k_ref_per_hour.value  # at 25 °C until a temperature says otherwise
    if location_id is not None and packaging is not None:
        light = site.sensor(location_id, "light")
        temp = site.sensor(location_id, "temperature")
        kappa = measured_light.current_kappa(site, catalog, location_id)
        tau = catalog.packaging_state(packaging).tau
        lux_now = None if light is None else readings.latest(site.conn, light)
        celsius_now = None if temp is None else readings.latest(site.conn, temp)
        g = 1.0
        if celsius_now is not None:
            kelvin = celsius_now[1] + kinetics.CELSIUS_TO_KELVIN
            g = kinetics.light_temperature_factor(drug, kelvin)
            thermal = float(
                kinetics.arrhenius_factor(
                    np.array([kelvin]), kinetics.ea_over_r(drug), drug.t_ref_kelvin.value
                )[0]
            )
            rate_best = rate_low = drug.k_ref_per_hour.value * thermal
        if lux_now is not None:
            worst = site.light(location_id).worst_case_lux
            lux_high = lux_now[1] + ((light.calibration_uncertainty or 0.0) if light else 0.0)
            if lux_now[2]:  # saturated: only a lower bound
                lux_high = max(lux_high, worst) if worst is not None else math.inf
            joint = measured_light.current_light_rate(
                site, catalog, vial.drug, vial.form, location_id, packaging
            )
            if joint is None:
                joint = Interval(
                    k_light.best * kappa.best * tau.value,
                    k_light.low * kappa.low * tau.lowest,
                    k_light.high * kappa.high * tau.highest,
                )
            rate_best += joint.best * g * lux_now[1]
            rate_low += joint.high * g * lux_high
    hours_best = bounds.hours_to_threshold(percent.best, threshold_percent, rate_best)
    hours_low = bounds.hours_to_threshold(percent.low, threshold_percent, rate_low)
    deadline = None
    limit = form.label_use_within_minutes
    if reconstituted_ts is not None and limit is not None:
        deadline = reconstituted_ts + limit.value * 60.0
    hours, limited_by = hours_low, "model"
    if deadline is not None and (deadline - as_of) / SECONDS_PER_HOUR < hours:
        hours, limited_by = max((deadline - as_of) / SECONDS_PER_HOUR, 0.0), "label"
    return TimeToThreshold(threshold_percent, hours, hours_best, hours_low, deadline, limited_by)


def _silence(
    site: SiteView,
    catalog: Catalog,
    vial: VialRecord,
    events: list[VialEvent],
    when: float,
    now: float,
    notes: list[str],
) -> list[bounds.SegmentRange]:
    """Stretches after the newest reading, up to ``now``: nothing for the best estimate, and what a silent
    sensor cannot rule out for the low bound (a lag shorter than the sensor's gap limit counts as none)."""
    out: list[bounds.SegmentRange] = []
    for span in spans(events, now):
        start = max(span.start, when)
        if span.end <= start:
            continue
        dose, unbounded = _dose(site, catalog, span.location_id, span.packaging, start, span.end, notes)
        if dose.high <= 0 and not unbounded:
            continue
        tau = catalog.packaging_state(span.packaging).tau
        kappa = interval_of(catalog.lamp(site.light(span.location_id).lamp).kappa)
        segment = kinetics.ExposureSegment(start, span.end, tau.value, 0.0, 0.0, kappa.best)
        joint = _joint(catalog, vial, site, span.location_id, span.packaging, kappa)
        out.append(
            bounds.SegmentRange(
                segment, interval_of(tau), kappa, Interval(0.0, 0.0, dose.high), unbounded, light_rate=joint
            )
        )
    return out


def vial_potency(
    conn: sqlite3.Connection,
    catalog: Catalog,
    vial: VialRecord,
    as_of: float | None = None,
    threshold_percent: float = 90.0,
    now: float | None = None,
    site: SiteView | None = None,
) -> VialPotency:
    """The vial's potency at ``as_of`` (default: its latest data), best, low and high, and its time left.

    ``now`` (default ``as_of``) is the wall-clock time the label's limit after reconstitution counts to:
    that limit runs whether or not readings have arrived. With ``now`` and the default ``as_of``, time
    after the newest reading that the sensor should have covered (a silent sensor) widens the low bound:
    the best estimate stays as of the data, but the data cannot rule out light since. ``site`` shares
    lookups across the vials of one pass.
    """
    site = site if site is not None else SiteView(conn)
    events = vial_store.events(conn, vial.id)
    when = default_as_of(site, vial, events) if as_of is None else as_of
    drug = catalog.drug(vial.drug)
    form = catalog.form(vial.drug, vial.form)
    notes: list[str] = []
    segments = segment_ranges(site, catalog, vial, drug, spans(events, when), notes)
    if as_of is None and now is not None and now > when and _ended(events) is None:
        segments += _silence(site, catalog, vial, events, when, now, notes)
    slow, fast = kinetics.photolysis_rate_range(drug, form)
    k_light = Interval(kinetics.photolysis_rate_per_lux_hour(drug, form), slow, fast)
    if slow < fast:
        notes.append(f"rate k_thin·F(A) {slow:.3g}-{fast:.3g} per lux·h over the profile's parameter ranges")
    result = bounds.potency_range(vial.initial_potency_percent, k_light, drug.k_ref_per_hour.value, segments)
    reference = when if now is None else max(now, when)
    events_to_now = [e for e in events if e.ts <= reference]
    location, packaging = _current(events_to_now)
    reconstituted = next((e.ts for e in events if e.kind == "reconstituted"), None)
    lamp = None if location is None else site.light(location).lamp
    ttt = None
    if _ended(events) is None:
        ttt = _time_to_threshold(
            site,
            catalog,
            vial,
            location,
            packaging,
            result.percent,
            k_light,
            reconstituted,
            reference,
            threshold_percent,
        )
    return VialPotency(
        vial=vial,
        as_of=when,
        percent=result.percent.best,
        effective_lux_hours=result.effective_lux_hours.best,
        location_id=location,
        packaging=packaging,
        percent_range=result.percent,
        effective_lux_hours_range=result.effective_lux_hours,
        lamp=lamp,
        reconstituted_ts=reconstituted,
        uncertainty=tuple(dict.fromkeys(notes)),
        time_to_threshold=ttt,
    )
