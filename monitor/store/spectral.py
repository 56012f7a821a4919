"""Spectral and UV readings: channel counts as read, κ_s and near-UV derived from them, and their ledgers.

Each row carries running integrals continued from the sensor's previous row (trapezoid, nothing across an
interval longer than the sensor's ``max_gap_seconds``, as the lux ledger): lux·h over readings whose
spectrum gave a κ_s, κ_s·lux·h over the same readings, near-UV W·h/m², and (migration 21) the measured
spectrum: the irradiance a spectral chip's channels give at each filter peak, scaled to the reading's lux,
one ledger per channel. The κ_s or the spectrum that applies over a stretch of time is then a difference
of ledgers, whatever its length, with no scan.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.model import ledger
from monitor.model.kinetics import FloatArray
from monitor.model.spectra import thin_kappa
from monitor.model.spectral import (
    SPECTRAL_CHIPS,
    SpectralCounts,
    photon_flux_of_peaks,
    spectrum_of,
)
from monitor.store import sites
from monitor.store.sites import SensorRecord

SECONDS_PER_HOUR = 3600.0
_CUMULATIVE = ("cum_spectral_lux_hours", "cum_kappa_lux_hours", "cum_near_uv_wh_per_m2")
CHANNELS = 8  # the spectrum ledger's channels: the AS7341's F1-F8 (migration 21)
SPECTRUM_COLUMNS = tuple(f"cum_f{k}_wh_per_m2_nm" for k in range(1, CHANNELS + 1))
LEDGER_COLUMNS = (*_CUMULATIVE, *SPECTRUM_COLUMNS)
NO_SPECTRUM: tuple[float, ...] = (0.0,) * CHANNELS


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
    spectrum_wh_per_m2_nm: tuple[float, ...]  # per channel peak (W·h m⁻² nm⁻¹)


def ledger_rates(lux: float, kappa: float | None, near_uv: float | None) -> tuple[float, float, float]:
    known = kappa is not None and lux > 0
    return (lux if known else 0.0, (kappa or 0.0) * lux if known else 0.0, near_uv or 0.0)


def spectrum_rates(lux: float, peaks_per_lux: FloatArray | None) -> tuple[float, ...]:
    """The spectrum ledgers' integrands at a reading: its peak irradiances per lux times its lux."""
    if peaks_per_lux is None or not lux > 0:
        return NO_SPECTRUM
    return tuple((peaks_per_lux * lux).tolist())


def stored_spectrum(chip: str, channels: str, counts: str, saturated: bool) -> FloatArray | None:
    """A stored row's peak irradiances per lux, from its counts as read (as at insert)."""
    names, values = json.loads(channels), json.loads(counts)
    return spectrum_of(SpectralCounts(chip, tuple(names), tuple(values), 1.0, 1.0, bool(saturated)))


def row_rates(row: Sequence[object]) -> tuple[float, ...]:
    """Every ledger's integrand at a row ``(lux, kappa, near_uv, chip, channels, counts, saturated)``."""
    lux, kappa, near_uv, chip, channels, counts, saturated = row
    spectrum = stored_spectrum(str(chip), str(channels), str(counts), bool(saturated))
    return (
        *ledger_rates(float(lux), kappa, near_uv),  # type: ignore[arg-type]  # REAL columns
        *spectrum_rates(float(lux), spectrum),  # type: ignore[arg-type]
    )


ROW_COLUMNS = ("lux", "kappa", "near_uv_w_per_m2", "chip", "channels", "counts", "saturated")
_ROW = ", ".join(ROW_COLUMNS)


def _tail(conn: sqlite3.Connection, sensor_id: int) -> tuple[float, FloatArray, FloatArray] | None:
    row = conn.execute(
        f"SELECT ts, {_ROW}, {', '.join(LEDGER_COLUMNS)} FROM spectral_readings"
        " WHERE sensor_id = ? ORDER BY ts DESC LIMIT 1",
        (sensor_id,),
    ).fetchone()
    if row is None:
        return None
    rates = np.array(row_rates(row[1:8]), dtype=np.float64)
    return float(row[0]), rates, np.array(row[8:], dtype=np.float64)


def integrate(
    tail: tuple[float, FloatArray, FloatArray] | None,
    t: FloatArray,
    rates: FloatArray,
    max_gap_seconds: float,
) -> FloatArray:
    """Every ledger's cumulative values at ``t`` (rows × ledgers), continued from ``tail``: the
    trapezoids of :func:`monitor.model.ledger.integrate`, the same operations in the same order, for all
    the ledgers in one pass (a reading a second is one row: the per-call overhead is what it costs)."""
    if tail is not None:
        t = np.concatenate(([tail[0]], t))
        rates = np.concatenate((tail[1][None, :], rates))
    dt = np.diff(t)
    body = (rates[1:] + rates[:-1]) * dt[:, None]
    body[dt > max_gap_seconds] = 0.0  # nothing is added across a gap
    out = np.concatenate((np.zeros((1, rates.shape[1])), np.cumsum(body, axis=0)))
    out *= 1.0 / (2.0 * SECONDS_PER_HOUR)
    if tail is None:
        return out
    out += tail[2]
    result: FloatArray = out[1:]
    return result


def insert(conn: sqlite3.Connection, sensor: SensorRecord, rows: Sequence[SpectralRow]) -> int:
    """Store readings later than the sensor's last one, with κ_s and the ledgers; returns rows added."""
    tail = _tail(conn, sensor.id)
    last_ts = -math.inf if tail is None else tail[0]
    kept = [r for r in sorted(rows, key=lambda r: r.ts) if r.ts > last_ts]
    if not kept:
        return 0
    spectra = [spectrum_of(r.spectrum) for r in kept]
    # κ_s is the thin-solution weighting of the same estimate: one product for every row.
    lit = [i for i, p in enumerate(spectra) if p is not None]
    kappas: list[float | None] = [None] * len(kept)
    if lit:
        chip = SPECTRAL_CHIPS[kept[lit[0]].spectrum.chip]
        peaks = np.stack([spectra[i] for i in lit])  # type: ignore[misc]  # the lit rows have one
        for i, k in zip(lit, thin_kappa(photon_flux_of_peaks(chip, peaks)).tolist(), strict=True):
            kappas[i] = k
    rates = np.array(
        [
            (*ledger_rates(r.lux, k, r.spectrum.near_uv_w_per_m2), *spectrum_rates(r.lux, p))
            for r, k, p in zip(kept, kappas, spectra, strict=True)
        ],
        dtype=np.float64,
    )
    t = np.array([r.ts for r in kept], dtype=np.float64)
    cumulative = integrate(tail, t, rates, sensor.max_gap_seconds).tolist()
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO spectral_readings (sensor_id, ts, chip, channels, counts, gain,"
        f" integration_ms, saturated, lux, kappa, near_uv_w_per_m2, {', '.join(LEDGER_COLUMNS)})"
        f" VALUES ({', '.join('?' * (11 + len(LEDGER_COLUMNS)))})",
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
                *c,
            )
            for r, k, c in zip(kept, kappas, cumulative, strict=True)
        ],
    )
    return conn.total_changes - before


def ledgers_at(conn: sqlite3.Connection, sensor: SensorRecord, ts: float) -> Ledgers:
    """The ledgers at ``ts``, interpolated exactly between the bracketing readings."""
    select = f"SELECT ts, {_ROW}, {', '.join(LEDGER_COLUMNS)} FROM spectral_readings"
    before = conn.execute(
        f"{select} WHERE sensor_id = ? AND ts <= ? ORDER BY ts DESC LIMIT 1", (sensor.id, ts)
    ).fetchone()
    after = conn.execute(
        f"{select} WHERE sensor_id = ? AND ts > ? ORDER BY ts ASC LIMIT 1", (sensor.id, ts)
    ).fetchone()

    def points(row: Sequence[object] | None) -> list[tuple[float, float, float] | None]:
        """Per ledger: ``(ts, rate, cumulative)`` at ``row``, as ``monitor.model.ledger.value_at`` takes."""
        if row is None:
            return [None] * len(LEDGER_COLUMNS)
        rates = row_rates(row[1:8])
        return [
            (float(row[0]), rate, float(c))  # type: ignore[arg-type]  # REAL columns
            for rate, c in zip(rates, row[8:], strict=True)
        ]

    values = [
        ledger.value_at(ts, b, a, sensor.max_gap_seconds)
        for b, a in zip(points(before), points(after), strict=True)
    ]
    return Ledgers(values[0], values[1], values[2], tuple(values[3:]))


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


def latest_kappa(
    conn: sqlite3.Connection, sensor: SensorRecord
) -> tuple[float, float, FloatArray | None] | None:
    """The newest reading that gave a κ_s, as ``(ts, kappa, peak irradiances per lux)``: a dark fridge
    keeps the last one seen."""
    row = conn.execute(
        "SELECT ts, kappa, chip, channels, counts, saturated FROM spectral_readings WHERE sensor_id = ?"
        " AND kappa IS NOT NULL ORDER BY ts DESC LIMIT 1",
        (sensor.id,),
    ).fetchone()
    if row is None:
        return None
    return float(row[0]), float(row[1]), stored_spectrum(str(row[2]), str(row[3]), str(row[4]), bool(row[5]))


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


def chip_of(conn: sqlite3.Connection, sensor: SensorRecord) -> str:
    """The spectral chip the sensor's newest reading came from."""
    row = conn.execute(
        "SELECT chip FROM spectral_readings WHERE sensor_id = ? ORDER BY ts DESC LIMIT 1", (sensor.id,)
    ).fetchone()
    return "" if row is None else str(row[0])
