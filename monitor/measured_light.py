"""What a location's spectral and UV sensors add to the model: a measured κ_s and the near-UV dose.

Where a location has a spectral sensor (AS7341), the κ_s of a stretch of time is the lux-weighted mean of
the κ_s of its readings (the ratio of two ledgers, :mod:`monitor.store.spectral`), times the drug
profiles' ``measured-spectrum`` factor, whose range is the estimate's error over the §6 sources. It
replaces the configured lamp type. Light the spectral sensor did not characterise (it was silent,
saturated or dark while the lux sensor saw light) keeps the configured lamp's κ and range, in proportion
to its share of the stretch's lux·h, so a spectral sensor that fails never narrows the bounds.

The near-UV dose is the UV sensor's (LTR390) running integral of its 300-400 nm irradiance estimate, set
against the ICH Q1B confirmatory exposure of 200 W·h/m² (photokinetics.md §4).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from monitor.bounds import Interval
from monitor.profiles import Catalog
from monitor.site_view import SiteView
from monitor.spectral import ICH_Q1B_NEAR_UV_WH_PER_M2, MEASURED_SPECTRUM_LAMP
from monitor.store import spectral

MEASURED_SPECTRUM = MEASURED_SPECTRUM_LAMP


def _lamp_kappa(site: SiteView, catalog: Catalog, location_id: int) -> Interval:
    c = catalog.lamp(site.light(location_id).lamp).kappa
    return Interval(c.value, c.lowest, c.highest)


def _measured(catalog: Catalog, kappa: float) -> Interval:
    f = catalog.lamp(MEASURED_SPECTRUM).kappa
    return Interval(kappa * f.value, kappa * f.lowest, kappa * f.highest)


def span_kappa(
    site: SiteView,
    catalog: Catalog,
    location_id: int,
    start: float,
    end: float,
    lux_hours: float,
    notes: list[str],
) -> Interval:
    """κ_s over ``[start, end]``, whose primary sensor recorded ``lux_hours`` (best)."""
    lamp = _lamp_kappa(site, catalog, location_id)
    sensor = site.spectral_sensor(location_id)
    if sensor is None or end <= start:
        return lamp
    a = spectral.ledgers_at(site.conn, sensor, start)
    b = spectral.ledgers_at(site.conn, sensor, end)
    seen = b.spectral_lux_hours - a.spectral_lux_hours
    if seen <= 0.0:
        return lamp
    measured = _measured(catalog, (b.kappa_lux_hours - a.kappa_lux_hours) / seen)
    share = 1.0 if lux_hours <= 0.0 else min(seen / lux_hours, 1.0)
    kappa = Interval(
        share * measured.best + (1.0 - share) * lamp.best,
        share * measured.low + (1.0 - share) * lamp.low,
        share * measured.high + (1.0 - share) * lamp.high,
    )
    configured = site.light(location_id).lamp
    covered = "" if share >= 0.995 else f" over {share:.0%} of the light, lamp '{configured}' for the rest"
    notes.append(
        f"κ_s {measured.best:.2f} ({measured.low:.2f}-{measured.high:.2f}) from the spectrum measured by "
        f"{sensor.key}{covered}, in place of lamp '{configured}'"
    )
    return kappa


def current_kappa(site: SiteView, catalog: Catalog, location_id: int) -> Interval:
    """κ_s of the light now: from the spectral sensor's newest reading that gave one (in a dark fridge,
    the last light it saw), else the configured lamp's."""
    measured = latest_measured_kappa(site, catalog, location_id)
    return _lamp_kappa(site, catalog, location_id) if measured is None else measured[1]


def latest_measured_kappa(
    site: SiteView, catalog: Catalog, location_id: int
) -> tuple[float, Interval] | None:
    """When and what κ_s the location's spectral sensor last measured; ``None`` if it never has."""
    sensor = site.spectral_sensor(location_id)
    newest = None if sensor is None else spectral.latest_kappa(site.conn, sensor)
    return None if newest is None else (newest[0], _measured(catalog, newest[1]))


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
