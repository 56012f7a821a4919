"""Central's fleet routes: every site's vials with their verdicts, locations, sensors, the alerts as they
stand, and the fleet page; each with the site dimension.

The verdicts are computed here by the site's own model code from central's copy of the site's data
(:mod:`fleet.central.fleet_view`); the words are the site's (:mod:`monitor.model.verdict`), never
re-spelled. Handlers are plain functions: psycopg blocks, so FastAPI runs them in its thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from fleet.central import fleet_page, fleet_view
from fleet.central.connection import Conn
from fleet.central.fleet_view import FleetVial
from monitor.alerts.vocabulary import ALERT_STATES
from monitor.timestamps import iso_utc

router = APIRouter()

# Alerts that stand: every state but the last, resolved (monitor.alerts.vocabulary's order).
STANDING = ALERT_STATES[:-1]


def _iso(ts: float | None) -> str | None:
    return None if ts is None else iso_utc(ts)


def vial_item(v: FleetVial) -> dict[str, Any]:
    """A vial as central answers it: the site's figures, rounded as the site's API rounds them."""
    verdict = None
    if v.verdict is not None:
        verdict = v.verdict.facts()
        verdict["label_deadline_at"] = _iso(v.verdict.label_deadline_ts)
        del verdict["label_deadline_ts"]
    bounds = v.potency_percent
    return {
        "site": v.site,
        "key": v.key,
        "drug": v.drug,
        "form": v.form,
        "status": v.status,
        "location": v.location,
        "packaging": v.packaging,
        "potency_as_of": _iso(v.as_of),
        "potency_bounds_percent": None
        if bounds is None
        else {"best": round(bounds.best, 4), "low": round(bounds.low, 4), "high": round(bounds.high, 4)},
        "verdict": verdict,
        "refused": v.refused,
    }


def _vials(conn: Conn, request: Request, site: str | None, at: float | None) -> list[FleetVial]:
    state = request.app.state
    return fleet_view.fleet_vials(conn, state.catalog, state.clock(), site=site, at=at)


Site = Annotated[str | None, Query(description="only this site")]
At = Annotated[
    float | None,
    Query(
        description="the site's time to judge at, Unix seconds; default: the site's clock as central knows it"
    ),
]


@router.get("/api/v1/fleet/vials")
def fleet_vials(conn: Conn, request: Request, site: Site = None, at: At = None) -> dict[str, Any]:
    """Every site's vials: verdict, time left, basis, potency best/low/high, location; or the reason
    central gives no verdict (``refused``)."""
    return {"vials": [vial_item(v) for v in _vials(conn, request, site, at)]}


@router.get("/api/v1/fleet/locations")
def fleet_locations(conn: Conn, site: Site = None) -> dict[str, Any]:
    """Every site's locations as the site configured them."""
    rows = conn.execute(
        "SELECT l.site, l.key, l.name, l.kind, l.lamp, l.worst_case_lux,"
        " coalesce(array_agg(s.key ORDER BY s.site_id) FILTER (WHERE s.key IS NOT NULL), '{}')"
        " FROM site_locations AS l"
        " LEFT JOIN site_sensors AS s ON (s.site, s.location_id) = (l.site, l.site_id)"
        " WHERE %(site)s::text IS NULL OR l.site = %(site)s"
        " GROUP BY l.site, l.site_id ORDER BY l.site, l.site_id",
        {"site": site},
    ).fetchall()
    names = ("site", "key", "name", "kind", "lamp", "worst_case_lux", "sensors")
    return {"locations": [dict(zip(names, r, strict=True)) for r in rows]}


@router.get("/api/v1/fleet/sensors")
def fleet_sensors(conn: Conn, site: Site = None) -> dict[str, Any]:
    """Every site's sensors: location, quantity, driver, interval, status and calibration."""
    rows = conn.execute(
        "SELECT s.site, s.key, l.key, s.quantity, s.driver, s.interval_seconds, s.max_gap_seconds, s.status,"
        " s.status_detail, s.calibration_certificate, s.calibration_due_at, s.calibration_uncertainty,"
        " s.spectral, s.near_uv FROM site_sensors AS s"
        " JOIN site_locations AS l ON (l.site, l.site_id) = (s.site, s.location_id)"
        " WHERE %(site)s::text IS NULL OR s.site = %(site)s ORDER BY s.site, s.site_id",
        {"site": site},
    ).fetchall()
    out = []
    for (
        site_name,
        key,
        location,
        quantity,
        driver,
        interval,
        max_gap,
        status,
        detail,
        certificate,
        due,
        uncertainty,
        spectral,
        near_uv,
    ) in rows:
        out.append(
            {
                "site": site_name,
                "key": key,
                "location": location,
                "quantity": quantity,
                "driver": driver,
                "interval_seconds": interval,
                "max_gap_seconds": max_gap,
                "status": status,
                "status_detail": detail,
                "calibration": {
                    "certificate": certificate,
                    "due_at": None if due is None else _iso(due.timestamp()),
                    "expanded_uncertainty": uncertainty,
                },
                "spectral": spectral,
                "near_uv": near_uv,
            }
        )
    return {"sensors": out}


@router.get("/api/v1/fleet/alerts/current")
def current_alerts(conn: Conn, site: Site = None) -> dict[str, Any]:
    """Every alert that stands now (not resolved), as its site's last change left it, per site."""
    rows = conn.execute(
        "SELECT a.site, a.record, s.online FROM (SELECT DISTINCT ON (site, alert_id) site, record"
        " FROM alert_feed WHERE %(site)s::text IS NULL OR site = %(site)s"
        " ORDER BY site, alert_id, event_seq DESC) AS a JOIN sites AS s ON s.site = a.site"
        " WHERE a.record->>'state' = ANY(%(standing)s) ORDER BY a.site, (a.record->>'id')::bigint",
        {"site": site, "standing": list(STANDING)},
    ).fetchall()
    return {
        "alerts": [{"site": s, "site_online": bool(online), **dict(record)} for s, record, online in rows]
    }


@router.get("/fleet", response_class=HTMLResponse, include_in_schema=False)
def page(conn: Conn, request: Request, at: At = None) -> HTMLResponse:
    """Every site and location, worst first; offline sites flagged."""
    facts = fleet_view.site_facts(conn)
    rows = conn.execute("SELECT site, key, name FROM site_locations ORDER BY site, site_id").fetchall()
    html = fleet_page.render(facts, [(s, k, n) for s, k, n in rows], _vials(conn, request, None, at))
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
