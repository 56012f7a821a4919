"""Chart series: a location's lux and °C over a window with its cumulative lux·h; a vial's potency curve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import State, StoreDep
from api.glance_schemas import LightPoint, LocationSeries, PotencyPoint, PotencySeries, TemperaturePoint
from api.params import RowId
from api.schemas import iso
from monitor import series

router = APIRouter(prefix="/api/v1", tags=["series"])

MIN_WINDOW_HOURS = 1 / 60
"""A minute: a shorter window holds no reading of a minute's sensor and, far shorter, rounds to nothing
next to the time it ends at (a window of 1e-300 h started where it ended)."""


@router.get("/locations/{key}/series", response_model=LocationSeries)
def location_series(
    key: str,
    store: StoreDep,
    state: State,
    hours: Annotated[
        float, Query(ge=MIN_WINDOW_HOURS, le=24 * 366, description="window ending now, at least a minute")
    ] = 24.0,
    buckets: Annotated[int, Query(ge=1, le=series.MAX_BUCKETS)] = 288,
) -> LocationSeries:
    """Lux (min and max per bucket, so short door openings show), °C, and lux·h since the window start."""
    end = state.clock.wall()
    with store.snapshot():
        # At least a second a bucket: a bucket narrower than the readings' resolution is empty anyway.
        buckets = max(1, min(buckets, int(hours * 3600.0)))
        s = store.location_series(store.location(key), end - hours * 3600.0, end, buckets)
    return LocationSeries(
        location=key,
        start=iso(s.start),
        end=iso(s.end),
        bucket_seconds=s.bucket_seconds,
        window_lux_hours=s.window_lux_hours,
        light=[
            LightPoint(
                at=iso(p.ts),
                lux_min=p.lux_min,
                lux_max=p.lux_max,
                window_lux_hours=p.window_lux_hours,
                saturated=p.saturated,
            )
            for p in s.light
        ],
        temperature=[
            TemperaturePoint(
                at=iso(p.ts),
                celsius_min=p.celsius_min,
                celsius_max=p.celsius_max,
                celsius_mean=p.celsius_mean,
            )
            for p in s.temperature
        ],
    )


@router.get("/vials/{vial_id}/potency-series", response_model=PotencySeries)
def potency_series(
    vial_id: RowId,
    store: StoreDep,
    state: State,
    points: Annotated[int, Query(ge=2, le=series.MAX_CURVE_POINTS)] = 120,
) -> PotencySeries:
    """The vial's estimated potency from registration to now."""
    rules = state.settings.rules
    with store.snapshot():
        vial = store.vial(vial_id)
        curve = store.potency_curve(state.catalog, vial, points)
    return PotencySeries(
        vial=vial.key,
        threshold_warning_percent=rules.potency_warning_percent,
        threshold_critical_percent=rules.potency_critical_percent,
        points=[
            PotencyPoint(
                at=iso(p.ts),
                potency_percent=round(p.percent, 4),
                potency_low_percent=None if p.low_percent is None else round(p.low_percent, 4),
                potency_high_percent=None if p.high_percent is None else round(p.high_percent, 4),
                effective_lux_hours=p.effective_lux_hours,
            )
            for p in curve
        ],
    )
