"""What a location's spectral and UV sensors measured: the newest κ_s and the near-UV dose, for the API.

Where a location has a spectral sensor (AS7341), the κ_s of a stretch of time is the lux-weighted mean of
the κ_s of its readings (the ratio of two ledgers, :mod:`monitor.store.spectral`), times the drug
profiles' ``measured-spectrum`` factor, whose range is the estimate's error over the §6 sources. It
replaces the configured lamp type. Light the spectral sensor did not characterise (it was silent,
saturated or dark while the lux sensor saw light) keeps the configured lamp's κ and range, in proportion
to its share of the stretch's lux·h, so a spectral sensor that fails never narrows the bounds.

Where it has no spectral sensor but a UV sensor (LTR390), the near-UV that sensor saw per lux says how
much of the light was daylight (:func:`monitor.model.spectral.daylight_share`), and κ_s is the mix of the
configured lamp's and daylight's (``daylight-window``) in those shares: light is additive, so over a stretch
the ratio of the near-UV ledger to the sensor's own lux ledger gives the lux-weighted share. Its range
spans the lamp's and daylight's ranges and daylight taken as open (D65) rather than through a window
(ID65). It rests on the LTR390's near-UV estimate (an assumed W/m² per UV index unless calibrated) and on
the lamp emitting no near-UV (§6 has none for FL and LED): both stated in the notes.

The near-UV dose is the UV sensor's (LTR390) running integral of its 300-400 nm irradiance estimate, set
against the ICH Q1B confirmatory exposure of 200 W·h/m² (photokinetics.md §4).

The arithmetic is :mod:`monitor.model.measured_kappa`'s; the potency model reads the same ledgers
through one load (:mod:`monitor.store.model_inputs`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from monitor.model import time_left
from monitor.model.bounds import Interval
from monitor.model.measured_kappa import DAYLIGHT_LAMP, MEASURED_SPECTRUM, UV_ASSUMPTIONS
from monitor.model.profiles import Catalog
from monitor.model.spectral import ICH_Q1B_NEAR_UV_WH_PER_M2
from monitor.site_view import SiteView
from monitor.store import model_inputs, spectral

__all__ = ["DAYLIGHT_LAMP", "MEASURED_SPECTRUM", "UV_ASSUMPTIONS", "NearUvDose", "current_kappa"]


def current_kappa(site: SiteView, catalog: Catalog, location_id: int) -> Interval:
    """κ_s of the light now at the location, as the time left reads it (:func:`monitor.model.time_left.
    current_kappa`)."""
    return time_left.current_kappa(catalog, model_inputs.load_location(site.conn, location_id, []))


def latest_measured_kappa(
    site: SiteView, catalog: Catalog, location_id: int
) -> tuple[float, Interval] | None:
    """When and what κ_s the location's spectral (or else UV) sensor last measured; ``None`` if neither
    ever has (:func:`monitor.model.time_left.latest_measured_kappa`)."""
    found = time_left.latest_measured_kappa(catalog, model_inputs.load_location(site.conn, location_id, []))
    return None if found is None else (found.ts, found.kappa)


@dataclass(frozen=True, slots=True)
class NearUvDose:
    """A location's cumulative near-UV (300-400 nm) dose, as estimated by its UV sensor."""

    sensor_key: str
    as_of: float
    wh_per_m2: float
    ich_q1b_wh_per_m2: float = ICH_Q1B_NEAR_UV_WH_PER_M2

    @property
    def fraction_of_ich_q1b(self) -> float:
        return self.wh_per_m2 / self.ich_q1b_wh_per_m2


def near_uv_dose(conn: sqlite3.Connection, location_id: int) -> NearUvDose | None:
    """The near-UV dose since the UV sensor's first reading; ``None`` where the location has none."""
    sensor = spectral.spectral_sensor(conn, location_id, near_uv=True)
    newest = None if sensor is None else spectral.latest(conn, sensor)
    if sensor is None or newest is None:
        return None
    dose = spectral.ledgers_at(conn, sensor, newest[0]).near_uv_wh_per_m2
    return NearUvDose(sensor.key, newest[0], dose)
