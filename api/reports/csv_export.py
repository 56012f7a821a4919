"""The excursions CSV: one row per excursion, UTC times in ISO 8601, units in the column names."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from api.schemas import iso
from monitor.reporting import Excursion

COLUMNS = (
    "location",
    "location_name",
    "kind",
    "start_utc",
    "end_utc",
    "duration_seconds",
    "extreme_value",
    "unit",
    "bound",
    "readings",
)


def excursions_csv(rows: Sequence[Excursion]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, what spreadsheets expect
    writer.writerow(COLUMNS)
    for x in rows:
        e = x.episode
        writer.writerow(
            (
                x.location.key,
                x.location.name,
                x.kind,
                iso(e.start),
                iso(e.end),
                f"{e.seconds:.0f}",
                f"{e.peak:.2f}",
                x.unit,
                f"{x.bound:g}",
                e.readings,
            )
        )
    return out.getvalue()
