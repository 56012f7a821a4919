"""Spectral ingest: one AS7341 reading stored with κ_s and its ledgers, as the engine writes it (1 Hz).

Measured: :func:`monitor.store.spectral.insert`, which since migration 21 also keeps the measured spectrum
as eight ledgers (the irradiance at each filter peak, scaled to the reading's lux) for the photolysis
integral. Baseline in the same run, on the same database: the ingest as it was before (``_insert_before``
below, the previous code's arithmetic: κ_s through the spectrum on the 81-wavelength grid row by row, three
ledgers integrated one at a time, the previous columns), one reading per call into a second sensor.
"""

from __future__ import annotations

import json
import math
import sqlite3
import tempfile
import time
import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from bench.harness import Figure, figure
from hardware.chips import as7341 as chip
from monitor.config import parse_settings
from monitor.model import ledger
from monitor.model.spectra import (
    AVOGADRO_PER_MOL,
    GRID_NM,
    GRID_STEP_NM,
    KM_LUMENS_PER_WATT,
    LIGHT_M_PER_S,
    PLANCK_J_S,
    lamp_table,
    thin_kappa,
)
from monitor.model.spectral import AS7341, MIN_FILTER_COUNTS, SpectralCounts
from monitor.site_sync import sync_site
from monitor.store import Database, sites, spectral
from monitor.store.sites import SensorRecord

T0 = 1_767_225_600.0
LAMPS = ("led-4000k", "fluorescent-cool-white", "incandescent", "led-2700k")


def _kappa_before(reading: SpectralCounts) -> float | None:
    """κ_s of one reading as the ingest computed it before: the estimate built on the grid per reading."""
    if reading.saturated:
        return None
    by_name = dict(zip(reading.channels, reading.counts, strict=False))
    row = np.array([[by_name[name] for name in AS7341.channels]], dtype=np.float64)
    if row.max() < MIN_FILTER_COUNTS:
        return None
    peaks = np.asarray(AS7341.peaks_nm)
    e = row / np.asarray(AS7341.fwhm_nm)
    knots = np.concatenate(([AS7341.low_edge_nm], peaks, [max(float(GRID_NM[-1]), float(peaks[-1]))]))
    values = np.concatenate((e[:, :1], e, e[:, -1:]), axis=1)
    watts = np.stack([np.interp(GRID_NM, knots, r, left=0.0, right=0.0) for r in values])
    table = lamp_table()
    v = np.interp(GRID_NM, table.nm, table.v_lambda)
    lux = KM_LUMENS_PER_WATT * np.sum(watts * v, axis=1) * GRID_STEP_NM
    photons = watts * (GRID_NM * 1e-9) / (PLANCK_J_S * LIGHT_M_PER_S) / AVOGADRO_PER_MOL
    kappa = float(thin_kappa(photons / lux[:, None])[0])
    return None if math.isnan(kappa) else kappa


def _insert_before(
    conn: sqlite3.Connection, sensor: SensorRecord, rows: Sequence[spectral.SpectralRow]
) -> int:
    """The spectral ingest before migration 21: κ_s and three ledgers."""
    row = conn.execute(
        "SELECT ts, lux, kappa, near_uv_w_per_m2, cum_spectral_lux_hours, cum_kappa_lux_hours,"
        " cum_near_uv_wh_per_m2 FROM spectral_readings WHERE sensor_id = ? ORDER BY ts DESC LIMIT 1",
        (sensor.id,),
    ).fetchone()
    if row is None:
        last_ts, last_rates, last_cum = -math.inf, (0.0, 0.0, 0.0), [0.0, 0.0, 0.0]
    else:
        last_ts = float(row[0])
        last_rates = spectral.ledger_rates(float(row[1]), row[2], row[3])
        last_cum = [float(x) for x in row[4:]]
    kept = [r for r in sorted(rows, key=lambda r: r.ts) if r.ts > last_ts]
    kappas = [_kappa_before(r.spectrum) for r in kept]
    rates = np.array(
        [
            spectral.ledger_rates(r.lux, k, r.spectrum.near_uv_w_per_m2)
            for r, k in zip(kept, kappas, strict=True)
        ]
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
        " integration_ms, saturated, lux, kappa, near_uv_w_per_m2, cum_spectral_lux_hours,"
        " cum_kappa_lux_hours, cum_near_uv_wh_per_m2) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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


def _readings(n: int) -> list[spectral.SpectralRow]:
    out = []
    for i in range(n):
        lamp, lux = LAMPS[i % len(LAMPS)], 300.0 + (i % 7) * 50.0
        signal = chip.photodiode_signals(lux, lamp)
        counts = tuple(round(1000.0 * signal[ch.name[:2]]) for ch in chip.FILTERS)
        spectrum = SpectralCounts(
            "as7341", (*AS7341.channels, "clear", "NIR_910"), (*counts, 0, 0), 128.0, 280.78
        )
        out.append(spectral.SpectralRow(T0 + i, lux, spectrum))
    return out


def run(smoke: bool) -> list[Figure]:
    n = 60 if smoke else 3_000
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    for key in ("spectrum-now", "spectrum-before"):
        raw["sensors"].append({"key": key, "location": "fridge-1", "quantity": "light", "driver": "as7341"})
    with tempfile.TemporaryDirectory() as directory:
        settings = parse_settings(raw, "simulated.toml", {"db_path": Path(directory) / "v.db"})
        db = Database(settings.db_path)
        db.initialise()
        conn = db.connect()
        sync_site(conn, settings, T0)
        now, before = sites.sensor_by_key(conn, "spectrum-now"), sites.sensor_by_key(conn, "spectrum-before")
        rows = _readings(n)
        took = {"now": 0.0, "before": 0.0}
        # Interleaved, one reading per call and per transaction, as the engine writes them at 1 Hz.
        for r in rows:
            for name, sensor, insert in (("now", now, spectral.insert), ("before", before, _insert_before)):
                start = time.perf_counter()
                with conn:
                    insert(conn, sensor, [r])
                took[name] += time.perf_counter() - start
        conn.close()
    ours, baseline = took["now"] / n, took["before"] / n
    return [
        figure(
            "Spectral ingest per reading, with the spectrum ledgers of migration 21",
            ours,
            baseline,
            "the spectral ingest before migration 21 (κ_s and three ledgers), same database",
            "s",
            "within 1.5x of the baseline",
            ours <= 1.5 * baseline,
        )
    ]
