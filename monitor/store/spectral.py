"""Spectral and UV readings: channel counts as read, κ_s and near-UV derived from them, and their ledgers.

Each row carries three running integrals continued from the sensor's previous row (trapezoid, nothing
across an interval longer than the sensor's ``max_gap_seconds``, as the lux ledger): lux·h over readings
whose spectrum gave a κ_s, κ_s·lux·h over the same readings, and near-UV W·h/m². The κ_s that applies
over a stretch of time is then the ratio of two differences, whatever its length, with no scan.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.model import ledger
from monitor.model.spectral import SPECTRAL_CHIPS, SpectralCounts, kappa_of
from monitor.store import sites
from monitor.store.sites import SensorRecord

_CUMULATIVE = ("cum_spectral_lux_hours", "cum_kappa_lux_hours", "cum_near_uv_wh_per_m2")


@dataclass(frozen=True, slots=True)
class SpectralRow:
    ts: float
    lux: float
    spectrum: SpectralCounts


@dataclass(frozen=True, slots=True)
class Ledgers:
    """The three cumulative values at one instant."""

    spectral_lux_hours: float
    kappa_lux_hours: float
    near_uv_wh_per_m2: float


def ledger_rates(lux: float, kappa: float | None, near_uv: float | None) -> tuple[float, float, float]:
    known = kappa is not None and lux > 0
    return (lux if known else 0.0, (kappa or 0.0) * lux if known else 0.0, near_uv or 0.0)


def _tail(conn: sqlite3.Connection, sensor_id: int) -> tuple[float, tuple[float, float, float], list[float]]:
    row = conn.execute(
        f"SELECT ts, lux, kappa, near_uv_w_per_m2, {', '.join(_CUMULATIVE)} FROM spectral_readings"
        " WHERE sensor_id = ? ORDER BY ts DESC LIMIT 1",
        (sensor_id,),
    ).fetchone()
    if row is None:
        return -math.inf, (0.0, 0.0, 0.0), [0.0, 0.0, 0.0]
    return float(row[0]), ledger_rates(float(row[1]), row[2], row[3]), [float(x) for x in row[4:]]


def insert(conn: sqlite3.Connection, sensor: SensorRecord, rows: Sequence[SpectralRow]) -> int:
    """Store readings later than the sensor's last one, with κ_s and the ledgers; returns rows added."""
    last_ts, last_rates, last_cum = _tail(conn, sensor.id)
    kept = [r for r in sorted(rows, key=lambda r: r.ts) if r.ts > last_ts]
    if not kept:
        return 0
    kappas = [kappa_of(r.spectrum) for r in kept]
    rates = np.array(
        [ledger_rates(r.lux, k, r.spectrum.near_uv_w_per_m2) for r, k in zip(kept, kappas, strict=True)]
    )
    t = np.array([r.ts for r in kept], dtype=np.float64)
    columns = []
    for j in range(3):
        tail = None if last_ts == -math.inf else ledger.Tail(last_ts, last_rates[j], last_cum[j])
        cum, _ = ledger.integrate(tail, t, rates[:, j], sensor.max_gap_seconds)
        columns.append(cum)
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO spectral_readings (sensor_id, ts, chip, channels, counts, gain,"
        f" integration_ms, saturated, lux, kappa, near_uv_w_per_m2, {', '.join(_CUMULATIVE)})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                sensor.id,
                r.ts,
                r.spectrum.chip,
                json.dumps(list(r.spectrum.channels)),
                json.dumps(list(r.spectrum.counts)),
                r.spectrum.gain,
                r.spectrum.integration_ms,
                r.spectrum.saturated,
                r.lux,
                k,
                r.spectrum.near_uv_w_per_m2,
                float(columns[0][i]),
                float(columns[1][i]),
                float(columns[2][i]),
            )
            for i, (r, k) in enumerate(zip(kept, kappas, strict=True))
        ],
    )
    return conn.total_changes - before


def ledgers_at(conn: sqlite3.Connection, sensor: SensorRecord, ts: float) -> Ledgers:
    """The three ledgers at ``ts``, interpolated exactly between the bracketing readings."""
    select = f"SELECT ts, lux, kappa, near_uv_w_per_m2, {', '.join(_CUMULATIVE)} FROM spectral_readings"
    before = conn.execute(
        f"{select} WHERE sensor_id = ? AND ts <= ? ORDER BY ts DESC LIMIT 1", (sensor.id, ts)
    ).fetchone()
    after = conn.execute(
        f"{select} WHERE sensor_id = ? AND ts > ? ORDER BY ts ASC LIMIT 1", (sensor.id, ts)
    ).fetchone()

    def points(
        row: tuple[float, float, float | None, float | None, float, float, float] | None,
    ) -> list[tuple[float, float, float] | None]:
        """Per ledger: ``(ts, rate, cumulative)`` at ``row``, as ``monitor.model.ledger.value_at`` takes."""
        if row is None:
            return [None, None, None]
        ts_row, lux, kappa, near_uv, *cumulative = row
        rates = ledger_rates(float(lux), kappa, near_uv)
        return [(float(ts_row), rate, float(c)) for rate, c in zip(rates, cumulative, strict=True)]

    values = [
        ledger.value_at(ts, b, a, sensor.max_gap_seconds)
        for b, a in zip(points(before), points(after), strict=True)
    ]
    return Ledgers(*values)


def spectral_sensor(
    conn: sqlite3.Connection, location_id: int, *, near_uv: bool = False
) -> SensorRecord | None:
    """The location's first sensor with readings from a spectral chip (or, ``near_uv``, with a UV channel)."""
    chips = ", ".join(f"'{name}'" for name in SPECTRAL_CHIPS)
    condition = "r.near_uv_w_per_m2 IS NOT NULL" if near_uv else f"r.chip IN ({chips})"
    row = conn.execute(
        "SELECT s.key FROM sensors s WHERE s.location_id = ? AND s.quantity = 'light' AND EXISTS"
        f" (SELECT 1 FROM spectral_readings r WHERE r.sensor_id = s.id AND {condition})"
        " ORDER BY s.id LIMIT 1",
        (location_id,),
    ).fetchone()
    if row is None:
        return None
    return sites.sensor_by_key(conn, str(row[0]))


def latest(conn: sqlite3.Connection, sensor: SensorRecord) -> tuple[float, float | None, float | None] | None:
    """The newest reading as ``(ts, kappa, near_uv_w_per_m2)``."""
    row = conn.execute(
        "SELECT ts, kappa, near_uv_w_per_m2 FROM spectral_readings WHERE sensor_id = ?"
        " ORDER BY ts DESC LIMIT 1",
        (sensor.id,),
    ).fetchone()
    return None if row is None else (float(row[0]), row[1], row[2])


def latest_kappa(conn: sqlite3.Connection, sensor: SensorRecord) -> tuple[float, float] | None:
    """The newest reading that gave a κ_s, as ``(ts, kappa)``: a dark fridge keeps the last one seen."""
    row = conn.execute(
        "SELECT ts, kappa FROM spectral_readings WHERE sensor_id = ? AND kappa IS NOT NULL"
        " ORDER BY ts DESC LIMIT 1",
        (sensor.id,),
    ).fetchone()
    return None if row is None else (float(row[0]), float(row[1]))


def latest_lit_near_uv(
    conn: sqlite3.Connection, sensor: SensorRecord, min_lux: float
) -> tuple[float, float, float] | None:
    """The newest reading with a near-UV estimate at ``min_lux`` or more, as ``(ts, lux, near_uv)``."""
    row = conn.execute(
        "SELECT ts, lux, near_uv_w_per_m2 FROM spectral_readings WHERE sensor_id = ?"
        " AND near_uv_w_per_m2 IS NOT NULL AND lux >= ? ORDER BY ts DESC LIMIT 1",
        (sensor.id, min_lux),
    ).fetchone()
    return None if row is None else (float(row[0]), float(row[1]), float(row[2]))
