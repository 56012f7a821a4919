"""21: the spectrum a spectral chip (AS7341) measured, as ledgers the photolysis integral reads.

Per reading, the spectral irradiance the chip's channels give at each filter peak (W m⁻² nm⁻¹), scaled to
the reading's lux, is integrated like the lux ledger (trapezoid, nothing across gaps) into one cumulative
column per channel, F1 to F8. The estimate being linear in those irradiances, a ledger's difference over
a stretch is the estimate of all the light of the stretch: its joint rate per form and container is the
lux-weighted mean of the readings' (:mod:`monitor.model.measured_rates`). Readings stored before this
migration keep 0: their light is taken as uncharacterised (the configured lamp's rate).
"""

from __future__ import annotations

CHANNELS = 8  # the AS7341's filter channels F1-F8, in wavelength order

SQL = "\n".join(
    f"ALTER TABLE spectral_readings ADD COLUMN cum_f{k}_wh_per_m2_nm REAL NOT NULL DEFAULT 0;"
    for k in range(1, CHANNELS + 1)
)
