"""What central reads of the sites' sensors for the model, one statement per kind of input for every sensor
of every site asked at once (a sensor is ``(site, key)``: keys are unique within a site only): first and
newest readings, each ledger's bracketing readings at the times asked (interpolated by
:func:`monitor.model.ledger.value_at`, as at the site), gaps as they stand, saturated readings, the
highest hour of each window, raw temperatures (:mod:`fleet.central.model_inputs` assembles them).

Central keeps a reading's time as whole microseconds (``timestamptz``); the times asked are rounded to
the microsecond to find their bracketing readings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg

from fleet.central.site_config import SiteSensor
from monitor.model import dose_ranges, ledger
from monitor.model.inputs import LedgerAt
from monitor.model.kinetics import FloatArray
from monitor.model.quantities import Quantity, ledger_integrand

Connection = psycopg.Connection[tuple[Any, ...]]

# A reading's time as whole microseconds since the epoch, exactly (extract gives a numeric).
_US = "(extract(epoch FROM r.ts) * 1000000)::int8"
_AT = "timestamptz 'epoch' + {} * interval '1 microsecond'"


def _us(ts: float) -> int:
    return round(ts * 1e6)


def table(rows: Sequence[Sequence[Any]], columns: int) -> FloatArray:
    return np.asarray(rows, dtype=np.float64).reshape(-1, columns)


_ENDS = {
    "light": (
        "light_readings",
        "coalesce(r.lux, 'Infinity')",  # null: not finite at the site
        "cum_lux_hours",
        "r.saturated",
    ),
    "temperature": ("temperature_readings", "r.celsius", "cum_equivalent_hours", "false"),
}


# A sensor across the fleet: its site and its key there.
Ref = tuple[str, str]
# Times asked of each sensor, by its site and its configuration.
Asked = Mapping[tuple[str, SiteSensor], list[float]]


def at_site(site: str, asked: Mapping[SiteSensor, list[float]]) -> dict[tuple[str, SiteSensor], list[float]]:
    """One site's asked times as the fleet's reads take them."""
    return {(site, sensor): times for sensor, times in asked.items()}


@dataclass(frozen=True, slots=True)
class Ends:
    """A sensor's first reading (its time and ledger value) and its newest (time, value, saturated)."""

    first_ts: float | None
    first_cumulative: float | None
    newest: tuple[float, float, bool] | None


def ends(conn: Connection, site: str, quantity: Quantity, keys: list[str]) -> dict[str, Ends]:
    """:func:`ends_of` for one site's sensors, by key."""
    return {key: e for (_, key), e in ends_of(conn, quantity, [(site, k) for k in keys]).items()}


def ends_of(conn: Connection, quantity: Quantity, refs: Sequence[Ref]) -> dict[Ref, Ends]:
    """Each sensor's first and newest reading, one statement for any number of sites."""
    table, value, cum, saturated = _ENDS[quantity]
    out: dict[Ref, Ends] = {}
    for site, key, f_us, f_cum, n_us, n_value, n_sat in conn.execute(
        f"SELECT s.site, s.key, f.us, f.cum, n.us, n.v, n.sat"  # names from _ENDS
        " FROM unnest(%s::text[], %s::text[]) AS s(site, key)"
        f" LEFT JOIN LATERAL (SELECT {_US} AS us, r.{cum} AS cum FROM {table} AS r"
        "  WHERE r.site = s.site AND r.sensor = s.key ORDER BY r.ts LIMIT 1) AS f ON true"
        f" LEFT JOIN LATERAL (SELECT {_US} AS us, {value} AS v, {saturated} AS sat FROM {table} AS r"
        "  WHERE r.site = s.site AND r.sensor = s.key ORDER BY r.ts DESC LIMIT 1) AS n ON true",
        ([site for site, _ in refs], [key for _, key in refs]),
    ).fetchall():
        out[(site, key)] = Ends(
            None if f_us is None else f_us / 1e6,
            None if f_cum is None else float(f_cum),
            None if n_us is None else (n_us / 1e6, float(n_value), bool(n_sat)),
        )
    return out


def ledgers(
    conn: Connection, site: str, quantity: Quantity, asked: Mapping[SiteSensor, list[float]]
) -> dict[str, LedgerAt]:
    """:func:`ledgers_of` for one site's sensors, by key."""
    return {key: found for (_, key), found in ledgers_of(conn, quantity, at_site(site, asked)).items()}


def ledgers_of(conn: Connection, quantity: Quantity, asked: Asked) -> dict[Ref, LedgerAt]:
    """Each sensor's ledger at its asked times: the readings bracketing each time, in one statement, then
    :func:`monitor.model.ledger.value_at` as the site computes it (before the first reading: nothing)."""
    table, value, cum, _ = _ENDS[quantity]
    sensors = [s for s, times in asked.items() for _ in times]
    times = [t for ts in asked.values() for t in ts]
    rows = conn.execute(
        f"SELECT b.us, b.v, b.cum, a.us, a.v, a.cum"  # names from _ENDS
        " FROM unnest(%s::text[], %s::text[], %s::int8[]) WITH ORDINALITY AS q(site, sensor, t, i)"
        f" LEFT JOIN LATERAL (SELECT {_US} AS us, {value} AS v, r.{cum} AS cum FROM {table} AS r"
        f"  WHERE r.site = q.site AND r.sensor = q.sensor AND r.ts <= {_AT.format('q.t')}"
        "  ORDER BY r.ts DESC LIMIT 1) AS b ON true"
        f" LEFT JOIN LATERAL (SELECT {_US} AS us, {value} AS v, r.{cum} AS cum FROM {table} AS r"
        f"  WHERE r.site = q.site AND r.sensor = q.sensor AND r.ts > {_AT.format('q.t')}"
        "  ORDER BY r.ts LIMIT 1) AS a ON true ORDER BY q.i",
        ([site for site, _ in sensors], [s.key for _, s in sensors], [_us(t) for t in times]),
    ).fetchall()
    raw = np.array([[math.nan if x is None else float(x) for x in row] for row in rows]).reshape(-1, 6)
    before_rate = ledger_integrand(quantity, raw[:, 1])  # each stored value's rate, one numpy call
    after_rate = ledger_integrand(quantity, raw[:, 4])
    values = []
    for k, (t, (_, sensor)) in enumerate(zip(times, sensors, strict=True)):  # one per time asked, few
        b_us, _, b_cum, a_us, _, a_cum = raw[k]
        before = None if math.isnan(b_us) else (b_us / 1e6, float(before_rate[k]), float(b_cum))
        after = None if math.isnan(a_us) else (a_us / 1e6, float(after_rate[k]), float(a_cum))
        values.append(ledger.value_at(t, before, after, sensor.max_gap_seconds))
    out: dict[Ref, LedgerAt] = {}
    offset = 0
    for (site, sensor), ts in asked.items():
        out[(site, sensor.key)] = LedgerAt(
            np.asarray(ts, dtype=np.float64), np.asarray(values[offset : offset + len(ts)])
        )
        offset += len(ts)
    return out


def _spans(asked: Asked) -> tuple[list[Ref], list[int], list[int]]:
    refs = [(site, s.key) for (site, s), ts in asked.items() if ts]
    return (
        refs,
        [_us(min(ts)) for ts in asked.values() if ts],
        [_us(max(ts)) for ts in asked.values() if ts],
    )


def gaps(conn: Connection, asked: Asked) -> dict[Ref, FloatArray]:
    """Each light sensor's recorded gaps overlapping its span: the site's gaps as they stand (a gap the
    site removed, by a later re-integration, is gone)."""
    spans = {(site, s.key): (min(ts), max(ts)) for (site, s), ts in asked.items() if ts}
    sites = sorted({site for site, _ in spans})
    rows = conn.execute(
        "SELECT g.site, g.record->>'sensor', g.record->'start_ts', g.record->'end_ts' FROM ("
        " SELECT DISTINCT ON (site, record->>'id') site, kind, record FROM site_records"
        " WHERE site = ANY(%s) AND kind IN ('gap', 'gap-removed') ORDER BY site, record->>'id', seq DESC)"
        " AS g WHERE g.kind = 'gap' AND g.record->>'sensor' = ANY(%s)"
        " ORDER BY (g.record->>'start_ts')::float8",
        (sites, sorted({key for _, key in spans})),
    ).fetchall()
    out: dict[Ref, list[tuple[float, float]]] = {ref: [] for ref in spans}
    for site, key, start, end in rows:
        span = spans.get((site, key))
        if span is not None and float(end) > span[0] and float(start) < span[1]:
            out[(site, key)].append((float(start), float(end)))
    return {ref: table(v, 2) for ref, v in out.items()}


def _in_spans(
    conn: Connection, asked: Asked, table_name: str, value: str, where: str
) -> dict[Ref, FloatArray]:
    """``(ts, value)`` of each sensor's readings in ``table_name`` over its span that meet ``where``, oldest
    first (``value`` and ``where`` are SQL over the reading ``r``: names from this module)."""
    refs, starts, ends = _spans(asked)
    out: dict[Ref, list[tuple[float, float]]] = {ref: [] for ref in refs}
    for site, key, us, v in conn.execute(
        f"SELECT q.site, q.sensor, {_US}, {value}"
        " FROM unnest(%s::text[], %s::text[], %s::int8[], %s::int8[]) AS q(site, sensor, a, b)"
        f" JOIN {table_name} AS r ON r.site = q.site AND r.sensor = q.sensor AND {where}"
        f" AND r.ts BETWEEN {_AT.format('q.a')} AND {_AT.format('q.b')} ORDER BY q.site, q.sensor, r.ts",
        ([site for site, _ in refs], [key for _, key in refs], starts, ends),
    ).fetchall():
        out[(site, key)].append((us / 1e6, math.nan if v is None else float(v)))
    return {ref: table(rows, 2) for ref, rows in out.items()}


def saturated(conn: Connection, asked: Asked) -> dict[Ref, FloatArray]:
    """Each light sensor's saturated readings ``(ts, lux)`` in its span."""
    return _in_spans(conn, asked, "light_readings", "coalesce(r.lux, 'Infinity')", "r.saturated")


def hour_maxima(
    conn: Connection, cuts: Mapping[tuple[str, SiteSensor], list[tuple[float, float]]]
) -> dict[Ref, FloatArray]:
    """``(hour_ts, max_lux)`` of the hour holding the highest maximum of every window the bound on unseen
    light reads (:func:`monitor.model.dose_ranges.highest_windows`), from the hourly maxima central keeps
    as the site keeps them: exact for those windows, as the site's loader gives them."""
    sites: list[str] = []
    keys: list[str] = []
    since: list[float] = []
    until: list[float] = []
    for (site, sensor), pairs in cuts.items():
        if not pairs:
            continue
        start, end = np.array(pairs, dtype=np.float64).reshape(-1, 2).T
        a, b = dose_ranges.highest_windows(start, end)
        for window in sorted(set(zip(a.tolist(), b.tolist(), strict=True))):
            sites.append(site)
            keys.append(sensor.key)
            since.append(window[0])
            until.append(window[1])
    out: dict[Ref, set[tuple[float, float]]] = {(site, s.key): set() for site, s in cuts}
    for site, key, hour_ts, lux in conn.execute(
        "SELECT q.site, q.sensor, h.hour_ts, h.max_lux"
        " FROM unnest(%s::text[], %s::text[], %s::float8[], %s::float8[]) AS q(site, sensor, a, b)"
        " CROSS JOIN LATERAL (SELECT hour_ts, max_lux FROM light_hour_maxima"
        "  WHERE site = q.site AND sensor = q.sensor AND hour_ts >= q.a AND hour_ts <= q.b"
        "  ORDER BY max_lux DESC LIMIT 1) AS h",
        (sites, keys, since, until),
    ).fetchall():
        out[(site, key)].add((float(hour_ts), float(lux)))
    return {ref: table(sorted(v), 2) for ref, v in out.items()}


def series(conn: Connection, asked: Asked) -> dict[Ref, FloatArray]:
    """Each temperature sensor's raw ``(ts, celsius)`` over its span."""
    return _in_spans(conn, asked, "temperature_readings", "r.celsius", "true")
