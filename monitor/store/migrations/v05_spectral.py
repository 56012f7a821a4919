"""5: spectral and UV chips' channel counts beside their lux, with the spectrum factor κ_s derived from them
and three ledgers continued like the lux ledger (trapezoid, nothing across gaps): lux·h where κ_s is
known, κ_s·lux·h, and near-UV W·h/m² toward the ICH Q1B 200 W·h/m²
"""

from __future__ import annotations

SQL = """
    CREATE TABLE spectral_readings (
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        ts REAL NOT NULL,
        chip TEXT NOT NULL,
        channels TEXT NOT NULL,
        counts TEXT NOT NULL,
        gain REAL NOT NULL,
        integration_ms REAL NOT NULL,
        saturated INTEGER NOT NULL DEFAULT 0,
        lux REAL NOT NULL,
        kappa REAL,
        near_uv_w_per_m2 REAL,
        cum_spectral_lux_hours REAL NOT NULL,
        cum_kappa_lux_hours REAL NOT NULL,
        cum_near_uv_wh_per_m2 REAL NOT NULL,
        PRIMARY KEY (sensor_id, ts)
    ) WITHOUT ROWID;
    CREATE INDEX spectral_readings_with_kappa ON spectral_readings(sensor_id, ts) WHERE kappa IS NOT NULL;
"""
