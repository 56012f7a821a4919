"""Central's fleet routes: every site's vials with their verdicts, locations, sensors, the alerts as they
stand, and the fleet page; each with the site dimension. One write: an operator acknowledges one of
central's own alerts (:mod:`fleet.central.central_alerts`).

The verdicts are computed here by the site's own model code from central's copy of the site's data
(:mod:`fleet.central.fleet_view`); the words are the site's (:mod:`monitor.model.verdict`), never
re-spelled. Handlers are plain functions: psycopg blocks, so FastAPI runs them in its thread pool.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from fleet.central import central_alerts, fleet_page, fleet_view, vial_life
from fleet.central.connection import Conn, WriteConn
from fleet.central.fleet_view import FleetVial
from fleet.central.operator_auth import Operator, PageReader
from fleet.central.vial_life import VialLife
from monitor.alerts.vocabulary import ALERT_STATES
from monitor.errors import InvalidRequest, NotFound
from monitor.timestamps import iso_utc

router = APIRouter()
page_router = APIRouter()  # apart: a browser opens it with no token (fleet.central.operator_auth)

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


def life_item(life: VialLife) -> dict[str, Any]:
    """A vial's whole life as central answers it: figures unrounded (they are compared with the site's
    own to 1e-9), the verdict's words as every surface gives them, and the sites in the order it went."""
    verdict = None
    if life.verdict is not None:
        verdict = life.verdict.facts()
        verdict["label_deadline_at"] = _iso(life.verdict.label_deadline_ts)
        del verdict["label_deadline_ts"]
    bounds = life.potency_percent
    journey = life.journey
    return {
        "key": life.key,
        "drug": life.record.drug,
        "form": life.record.form,
        "status": life.record.status,
        "site": life.site,
        "location": None if life.location is None else life.location.key,
        "packaging": life.packaging,
        "first_registered_at": _iso(life.record.registered_ts),
        "potency_as_of": _iso(life.as_of),
        "potency_bounds_percent": None
        if bounds is None
        else {"best": bounds.best, "low": bounds.low, "high": bounds.high},
        "verdict": verdict,
        "uncertainty": list(life.uncertainty),
        "sites": [
            {
                "site": stay.site,
                "arrived": "registered" if stay.arrived is None else "received",
                "from": _iso(stay.start_ts),
                "until": _iso(stay.end_ts),
                "handed_over_to": stay.left_to,
                "locations": list(dict.fromkeys(e.location for e in stay.events if e.location is not None)),
            }
            for stay in journey.stays
        ],
        "in_transit_to": journey.in_transit_to,
        "refused": life.refused,
    }


VialKey = Annotated[str, Path(min_length=1, max_length=200, description="the vial's key, the organisation's")]


@router.get("/api/v1/fleet/vials/{key}/life")
def whole_life(conn: Conn, request: Request, key: VialKey, at: At = None) -> dict[str, Any]:
    """A vial's whole life across the sites it has been at, from every site's ledgers with the same model
    code (no carried state): potency best/low/high, verdict, time left, basis, and the sites with times;
    or the reason central gives no verdict (``refused``). Judged at the clock of the site holding it."""
    state = request.app.state
    try:
        life = vial_life.whole_life(conn, state.catalog, key, state.clock(), at=at)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    return life_item(life)


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
    """Every alert that stands now (not resolved), as its site's last change left it, per site; central's
    own under ``site`` ``@central``, the site they concern in ``concerns_site`` (``site_online``
    that site's)."""
    rows = conn.execute(
        "SELECT a.site, a.record, s.online FROM (SELECT DISTINCT ON (site, alert_id) site, record"
        " FROM alert_feed WHERE %(site)s::text IS NULL OR site = %(site)s"
        " ORDER BY site, alert_id, event_seq DESC) AS a"
        " JOIN sites AS s ON s.site = coalesce(a.record->>'concerns_site', a.site)"
        " WHERE a.record->>'state' = ANY(%(standing)s) ORDER BY a.site, (a.record->>'id')::bigint",
        {"site": site, "standing": list(STANDING)},
    ).fetchall()
    return {
        "alerts": [{"site": s, "site_online": bool(online), **dict(record)} for s, record, online in rows]
    }


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


@router.post("/api/v1/fleet/central-alerts/{alert_id}/acknowledge")
def acknowledge_central_alert(
    conn: WriteConn,
    request: Request,
    operator: Operator,
    alert_id: Annotated[int, Path(ge=1, le=2**62, description="the id of central's own alert")],
    body: Acknowledgement,
) -> dict[str, Any]:
    """Acknowledge one of central's own alerts (feed site ``@central``): what it told of is seen, so it
    resolves; recorded in central's audit trail. Needs scope ``write``; no command goes to any site."""
    now = datetime.fromtimestamp(request.app.state.clock(), UTC)
    try:
        return central_alerts.acknowledge(conn, alert_id, body.by, body.comment, operator, now)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except InvalidRequest as exc:
        raise HTTPException(409, str(exc)) from exc


@page_router.get("/fleet", response_class=HTMLResponse, include_in_schema=False)
def page(conn: Conn, request: Request, _: PageReader, at: At = None) -> HTMLResponse:
    """Every site and location, worst first; offline sites flagged."""
    facts = fleet_view.site_facts(conn)
    rows = conn.execute("SELECT site, key, name FROM site_locations ORDER BY site, site_id").fetchall()
    html = fleet_page.render(facts, [(s, k, n) for s, k, n in rows], _vials(conn, request, None, at))
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
