"""The dashboard: its page and assets at ``/``, and the one JSON it polls, ``GET /api/v1/dashboard``."""

from __future__ import annotations

import math
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse

from api.auth import caller
from api.deps import State, StoreDep
from api.glance_schemas import Dashboard, LocationGlance, Thresholds, VialGlance
from api.routes import vials as vial_routes
from api.routes.sites import location_schema
from api.schemas import iso
from monitor.errors import NotFound

router = APIRouter(tags=["dashboard"])

SECONDS_PER_DAY = 86_400.0
_ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css", "favicon.svg": "image/svg+xml"}
OffsetMinutes = Annotated[
    int, Query(ge=-14 * 60, le=14 * 60, description="the viewer's UTC offset, for 'today' (e.g. 540 for JST)")
]


def _static(name: str) -> bytes:
    return resources.files("api").joinpath("static", name).read_bytes()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def page() -> HTMLResponse:
    # The page is static: every figure on it comes from the JSON endpoints, so it works offline.
    return HTMLResponse(_static("index.html"), headers={"Cache-Control": "no-cache"})


@router.get("/assets/{name}", include_in_schema=False)
def asset(name: str) -> Response:
    kind = _ASSETS.get(name)
    if kind is None:
        raise NotFound(f"no dashboard asset named {name!r}")
    return Response(_static(name), media_type=kind, headers={"Cache-Control": "no-cache"})


def day_start(now: float, utc_offset_minutes: int) -> float:
    offset = utc_offset_minutes * 60.0
    return math.floor((now + offset) / SECONDS_PER_DAY) * SECONDS_PER_DAY - offset


@router.get("/api/v1/dashboard", response_model=Dashboard, dependencies=[Depends(caller)])
def dashboard(store: StoreDep, state: State, utc_offset_minutes: OffsetMinutes = 0) -> Dashboard:
    """Everything the dashboard shows at a glance, from one consistent snapshot of the store."""
    rules = state.settings.rules
    now = state.clock.wall()
    start = day_start(now, utc_offset_minutes)
    with store.snapshot():
        locations = []
        for loc in store.locations():
            g = store.location_glance(loc, now=now, day_start=start, light_lux=rules.light_lux)
            locations.append(
                LocationGlance(
                    location=location_schema(store, state.catalog, g.summary, state.settings),
                    light_on=g.light_on,
                    door_openings_today=len(g.openings),
                    longest_opening_seconds=g.longest_opening_seconds,
                    last_opening_at=iso(g.openings[-1].start) if g.openings else None,
                    day_start=iso(start) or "",
                )
            )
        active = store.vials(active_only=True)
        moves = store.vial_handovers([v.id for v in active])
        vials = [
            VialGlance(
                vial=vial_routes.to_schema(store, state.catalog, a, moves=moves.get(a.potency.vial.id, [])),
                status=a.verdict.colour,
                status_basis=a.verdict.basis,
            )
            for a in store.assess_all(state.catalog, active, vial_routes.thresholds(state), now)
        ]
    return Dashboard(
        site_name=state.settings.site_name,
        as_of=iso(now),
        thresholds=Thresholds(
            potency_warning_percent=rules.potency_warning_percent,
            potency_critical_percent=rules.potency_critical_percent,
            light_lux=rules.light_lux,
            temperature_low_celsius=rules.temperature_low_celsius,
            temperature_high_celsius=rules.temperature_high_celsius,
        ),
        locations=locations,
        vials=vials,
    )
