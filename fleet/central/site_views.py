"""What the site's API at central computes from central's copy of a site, as the site computes it: its
vials' potency and verdict (central's loader and the unchanged model, as the fleet's vial list evaluates
them, :func:`fleet.central.fleet_view.site_vials`), a vial's potency alone and its potency curve, and a
location's mean kinetic temperature (:func:`monitor.locations.mean_kinetic_temperature`).
:class:`fleet.central.site_store.SiteStore` calls them inside its error translation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from fleet.central import fleet_view, model_inputs, site_config, site_history
from fleet.central.site_refusals import central_lacks
from monitor.assessment import VialAssessment, judged
from monitor.errors import NotFound
from monitor.exposure import DEFAULT_THRESHOLD_PERCENT, VialPotency, named
from monitor.model import evaluation, kinetics
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.series import MAX_CURVE_POINTS, PotencyPoint, curve_of
from monitor.store.sites import SensorRecord
from monitor.store.vials import VialRecord
from monitor.version import version

Connection = psycopg.Connection[tuple[Any, ...]]

MKT_WINDOW_SECONDS = 86_400.0  # as the site's location summary: the last 24 h of data


def assess_all(
    conn: Connection,
    site: str,
    catalog: Catalog,
    chosen: Sequence[VialRecord],
    thresholds: Thresholds,
    now: float,
    what: str = "vial verdicts",
) -> list[VialAssessment]:
    """One load, one evaluation, the one decision at ``now``, for ``chosen`` in their order (``what``:
    the view a refusal names)."""
    loaded = _load(conn, site, catalog, chosen, what, now=now)
    found = evaluation.evaluate(loaded.inputs, catalog, thresholds.critical_percent)
    potencies = [named(v, e) for v, e in zip(loaded.vials, found, strict=True)]
    by_id = {a.potency.vial.id: a for a in judged(potencies, thresholds, now)}
    return [by_id[v.id] for v in chosen]


def potency_curve(
    conn: Connection, site: str, catalog: Catalog, vial: VialRecord, points: int, *, with_events: bool
) -> tuple[PotencyPoint, ...]:
    """The vial's potency at ``points`` times from registration to its latest data (and at its events'
    times, ``with_events``), from one load and one evaluation, as :func:`monitor.series.potency_curve`."""
    points = max(2, min(points, MAX_CURVE_POINTS))
    loaded = _load(
        conn, site, catalog, [vial], "potency curve", now=None, curve_points=points, curve_events=with_events
    )
    return curve_of(loaded.inputs, catalog, vial, with_events=with_events)


def vial_potency(conn: Connection, site: str, catalog: Catalog, vial: VialRecord) -> VialPotency:
    """The vial's potency as of its latest data, its time left counted to the default threshold, from one
    load and one evaluation, as :func:`monitor.exposure.vial_potency` (no clock: no silence widens it)."""
    loaded = _load(conn, site, catalog, [vial], "vial potency", now=None)
    (found,) = evaluation.evaluate(loaded.inputs, catalog, DEFAULT_THRESHOLD_PERCENT)
    return named(loaded.vials[0], found)


def _load(
    conn: Connection,
    site: str,
    catalog: Catalog,
    chosen: Sequence[VialRecord],
    what: str,
    *,
    now: float | None,
    curve_points: int | None = None,
    curve_events: bool = True,
) -> model_inputs.CentralInputs:
    """The model's inputs for ``chosen``. A vial central cannot evaluate as the site would is refused with
    the reason (:class:`CentralLacksIt`), never answered otherwise: the site's schema has no place for
    "no verdict"."""
    facts = fleet_view.site_facts(conn).get(site)
    if facts is None:
        raise NotFound(f"no site named {site!r} has reported to central")
    refusal = fleet_view.refusal_of_site(facts, version())
    if refusal is not None:
        central_lacks(site, what, refusal)
    located = site_config.locations(conn, site)
    loaded = model_inputs.load(
        conn,
        catalog,
        site,
        chosen,
        located,
        facts.report_lag_seconds,
        now=now,
        curve_points=curve_points,
        curve_events=curve_events,
    )
    if loaded.refused:
        central_lacks(
            site,
            what,
            "; ".join(f"for {r.vial_key}: {r.reason}" for r in loaded.refused)
            + f" (GET /api/v1/fleet/vials?site={site} lists every vial with its reason)",
        )
    return loaded


def mean_kinetic_temperature(
    conn: Connection, site: str, sensor: SensorRecord, end: float, window_seconds: float = MKT_WINDOW_SECONDS
) -> float | None:
    """USP MKT in °C over the window of data ending at ``end``, from the thermal ledger and the time not
    in a recorded gap, as the site computes it (:func:`monitor.locations.mean_kinetic_temperature`); None
    without data."""
    first = conn.execute(
        "SELECT extract(epoch FROM min(ts)) FROM temperature_readings WHERE site = %s AND sensor = %s",
        (site, sensor.key),
    ).fetchone()
    if first is None or first[0] is None:
        return None
    start = max(end - window_seconds, float(first[0]))
    gaps = site_history.gap_seconds(conn, site, [sensor.key], start, end)[sensor.key]
    covered_hours = max(end - start - gaps, 0.0) / 3600.0
    at_start, at_end = site_history.ledger_at(conn, site, {sensor: [start, end]})[sensor.key]
    equivalent = at_end - at_start
    if covered_hours <= 0 or not equivalent > 0:
        return None
    return kinetics.mean_kinetic_temperature_kelvin(equivalent, covered_hours) - kinetics.CELSIUS_TO_KELVIN
