"""Reports: the excursions CSV, and a PDF per location and period and per vial, rendered on the server."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import State, StoreDep
from api.params import RowId
from api.reports.csv_export import excursions_csv
from api.routes.dashboard import OffsetMinutes
from monitor import reporting
from monitor.errors import InvalidRequest
from monitor.timestamps import check_ts

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

# The PDF modules are imported by their handlers, on the first PDF asked for: fpdf2 (with Pillow and
# fontTools) adds about 21 MB to the API's resident memory and 0.15 s to its start, on a Pi that may never
# be asked for a PDF (measured with bench/bench_footprint.py).
_PDF_IMPORTS_LAZILY = True

Start = Annotated[
    datetime | None, Query(description="period start, ISO 8601 with a zone (default: end − days)")
]
End = Annotated[datetime | None, Query(description="period end, ISO 8601 with a zone (default: now)")]


def _period(now: float, days: float, start: datetime | None, end: datetime | None) -> tuple[float, float]:
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequest(f"{name}: give a time zone, e.g. 2026-01-31T00:00:00Z or +09:00")
    t1 = check_ts("end", now if end is None else end.timestamp())
    t0 = check_ts("start", t1 - days * 86_400.0 if start is None else start.timestamp())
    try:
        reporting.check_period(t0, t1)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from exc
    return t0, t1


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@router.get("/excursions.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def excursions(
    store: StoreDep,
    state: State,
    days: Annotated[float, Query(gt=0, le=366)] = 30.0,
    start: Start = None,
    end: End = None,
    location: str | None = None,
) -> Response:
    """Temperature excursions (every run out of range) and light excursions (runs past the light hold)."""
    t0, t1 = _period(state.clock.wall(), days, start, end)
    with store.snapshot():
        where = None if location is None else store.location(location)
        rows = store.excursions(t0, t1, state.settings.rules.thresholds(), where)
    return Response(
        excursions_csv(rows), media_type="text/csv; charset=utf-8", headers=_attachment("excursions.csv")
    )


@router.get(
    "/locations/{key}.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}}
)
def location_report(
    key: str,
    store: StoreDep,
    state: State,
    days: Annotated[float, Query(gt=0, le=366)] = 7.0,
    start: Start = None,
    end: End = None,
    utc_offset_minutes: OffsetMinutes = 0,
) -> Response:
    """The storage report of one location over a period: daily min/max, excursions, openings, MKT, alerts."""
    now = state.clock.wall()
    t0, t1 = _period(now, days, start, end)
    with store.snapshot():
        report = store.location_report(
            store.location(key),
            t0,
            t1,
            utc_offset_minutes * 60.0,
            state.settings.rules.thresholds(),
        )
    from api.reports.location_pdf import location_pdf  # see _PDF_IMPORTS_LAZILY

    body = location_pdf(report, state.settings.site_name, now)
    return Response(body, media_type="application/pdf", headers=_attachment(f"vialguard-{key}.pdf"))


@router.get(
    "/vials/{vial_id}.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}}
)
def vial_report(
    vial_id: RowId, store: StoreDep, state: State, utc_offset_minutes: OffsetMinutes = 0
) -> Response:
    """One vial's exposure history between its events, its potency curve and its alerts."""
    now = state.clock.wall()
    with store.snapshot():
        vial = store.vial(vial_id)
        report = store.vial_report(state.catalog, vial, state.settings.rules.thresholds(), now)
    from api.reports.vial_pdf import vial_pdf  # see _PDF_IMPORTS_LAZILY

    body = vial_pdf(report, state.settings.site_name, now, utc_offset_minutes * 60.0)
    return Response(body, media_type="application/pdf", headers=_attachment(f"vialguard-vial-{vial.key}.pdf"))
