"""The slow reference: what a location's spectral and UV sensors add to the model, a measured κ_s.

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

The light rate is not the product of a measured κ_s and τ_pkg: it is the photolysis integral of the
measured light (:func:`span_light_rate`): the spectrum the spectral sensor's ledgers give over the
stretch, by its photon flux on the integral's grid, or the lamp's and daylight's joint rates mixed in the
UV sensor's daylight share.
"""

from __future__ import annotations

import numpy as np

from monitor.model.bounds import Interval
from monitor.model.profiles import Catalog
from monitor.model.spectral import (
    AS7341,
    MEASURED_SPECTRUM_LAMP,
    MIN_LUX_FOR_DAYLIGHT_SHARE,
    daylight_share,
    photon_flux_of_peaks,
    reconstruction,
)
from monitor.site_view import SiteView
from monitor.store import readings, spectral
from monitor.store.sites import SensorRecord

MEASURED_SPECTRUM = MEASURED_SPECTRUM_LAMP
DAYLIGHT_LAMP = "daylight-window"  # the drug profiles' lamp whose κ is daylight's in a UV-measured mix
UV_ASSUMPTIONS = (
    "its near-UV estimate (an assumed W/m² per UV index unless calibrated) and the lamp taken to emit"
    " no near-UV"
)


def _lamp_kappa(site: SiteView, catalog: Catalog, location_id: int) -> Interval:
    c = catalog.lamp(site.light(location_id).lamp).kappa
    return Interval(c.value, c.lowest, c.highest)


def _measured(catalog: Catalog, kappa: float) -> Interval:
    f = catalog.lamp(MEASURED_SPECTRUM).kappa
    return Interval(kappa * f.value, kappa * f.lowest, kappa * f.highest)


def _daylight_mix(catalog: Catalog, lamp: Interval, near_uv_per_lux: float) -> tuple[Interval, float]:
    """κ_s of light that is the configured lamp's and daylight's in the shares its near-UV per lux gives;
    also the best daylight share."""
    day = catalog.lamp(DAYLIGHT_LAMP).kappa
    best, low = daylight_share(near_uv_per_lux)

    def mix(s: float, lamp_kappa: float, day_kappa: float) -> float:
        return lamp_kappa + s * (day_kappa - lamp_kappa)

    return (
        Interval(
            mix(best, lamp.best, day.value),
            min(mix(s, lamp.low, day.lowest) for s in (low, best)),
            max(mix(s, lamp.high, day.highest) for s in (low, best)),
        ),
        best,
    )


def _blend(share: float, measured: Interval, lamp: Interval) -> Interval:
    return Interval(
        share * measured.best + (1.0 - share) * lamp.best,
        share * measured.low + (1.0 - share) * lamp.low,
        share * measured.high + (1.0 - share) * lamp.high,
    )


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
    if end <= start:
        return lamp
    sensor = site.spectral_sensor(location_id)
    if sensor is None:
        uv = site.spectral_sensor(location_id, near_uv=True)
        return (
            lamp
            if uv is None
            else _span_kappa_from_uv(site, catalog, uv, location_id, start, end, lux_hours, lamp, notes)
        )
    a = spectral.ledgers_at(site.conn, sensor, start)
    b = spectral.ledgers_at(site.conn, sensor, end)
    seen = b.spectral_lux_hours - a.spectral_lux_hours
    if seen <= 0.0:
        return lamp
    measured = _measured(catalog, (b.kappa_lux_hours - a.kappa_lux_hours) / seen)
    share = 1.0 if lux_hours <= 0.0 else min(seen / lux_hours, 1.0)
    configured = site.light(location_id).lamp
    covered = "" if share >= 0.995 else f" over {share:.0%} of the light, lamp '{configured}' for the rest"
    notes.append(
        f"κ_s {measured.best:.2f} ({measured.low:.2f}-{measured.high:.2f}) from the spectrum measured by "
        f"{sensor.key}{covered}, in place of lamp '{configured}'"
    )
    return _blend(share, measured, lamp)


def _span_kappa_from_uv(
    site: SiteView,
    catalog: Catalog,
    uv: SensorRecord,
    location_id: int,
    start: float,
    end: float,
    lux_hours: float,
    lamp: Interval,
    notes: list[str],
) -> Interval:
    """κ_s over a stretch from the UV sensor's near-UV and lux ledgers (both add nothing where it was
    silent, so its ratio is over the light it saw); the light it did not see keeps the lamp's."""
    seen = readings.cumulative_at(site.conn, uv, end) - readings.cumulative_at(site.conn, uv, start)
    if seen <= 0.0:
        return lamp
    near_uv = (
        spectral.ledgers_at(site.conn, uv, end).near_uv_wh_per_m2
        - spectral.ledgers_at(site.conn, uv, start).near_uv_wh_per_m2
    )
    measured, daylight = _daylight_mix(catalog, lamp, near_uv / seen)
    share = 1.0 if lux_hours <= 0.0 else min(seen / lux_hours, 1.0)
    configured = site.light(location_id).lamp
    covered = (
        "" if share >= 0.995 else f" over {share:.0%} of the light, lamp '{configured}' alone for the rest"
    )
    notes.append(
        f"κ_s {measured.best:.2f} ({measured.low:.2f}-{measured.high:.2f}): {daylight:.0%} of the light"
        f" daylight by the near-UV {uv.key} saw, lamp '{configured}' the rest{covered}; assumes"
        f" {UV_ASSUMPTIONS}"
    )
    return _blend(share, measured, lamp)


def current_kappa(site: SiteView, catalog: Catalog, location_id: int) -> Interval:
    """κ_s of the light now: from the spectral (or else UV) sensor's newest reading that gave one (in a
    dark fridge, the last light it saw), else the configured lamp's."""
    measured = latest_measured_kappa(site, catalog, location_id)
    return _lamp_kappa(site, catalog, location_id) if measured is None else measured[1]


def latest_measured_kappa(
    site: SiteView, catalog: Catalog, location_id: int
) -> tuple[float, Interval] | None:
    """When and what κ_s the location's spectral sensor (AS7341) last measured, or where it has none, its
    UV sensor's daylight mix at the last lit reading; ``None`` if neither ever has."""
    sensor = site.spectral_sensor(location_id)
    if sensor is not None:
        newest = spectral.latest_kappa(site.conn, sensor)
        return None if newest is None else (newest[0], _measured(catalog, newest[1]))
    uv = site.spectral_sensor(location_id, near_uv=True)
    lit = None if uv is None else spectral.latest_lit_near_uv(site.conn, uv, MIN_LUX_FOR_DAYLIGHT_SHARE)
    if lit is None:
        return None
    ts, lux, near_uv = lit
    return ts, _daylight_mix(catalog, _lamp_kappa(site, catalog, location_id), near_uv / lux)[0]


def _lamp_rate(catalog: Catalog, drug: str, form: str, lamp: str, packaging: str) -> Interval | None:
    r = catalog.light_rate(
        drug, catalog.form(drug, form), catalog.lamp(lamp), catalog.packaging_state(packaging)
    )
    return None if r is None else Interval(r.best, r.low, r.high)


def _spectrum_rate(
    catalog: Catalog, drug: str, form: str, packaging: str, peaks: np.ndarray
) -> Interval | None:
    """The rate under the spectrum the chip's peak irradiances per lux give, by the photon flux on the
    integral's grid (not the channel map the model takes)."""
    flux = photon_flux_of_peaks(AS7341, peaks)
    r = catalog.light_rate_of_spectrum(
        drug, catalog.form(drug, form), flux, catalog.packaging_state(packaging)
    )
    return None if r is None else Interval(r.best, r.low, r.high)


def _uv_rate(
    catalog: Catalog, drug: str, form: str, lamp: Interval, packaging: str, ratio: float
) -> Interval | None:
    day = _lamp_rate(catalog, drug, form, DAYLIGHT_LAMP, packaging)
    if day is None:
        return None
    best, low = daylight_share(ratio)

    def mix(s: float, a: float, b: float) -> float:
        return a + s * (b - a)

    return Interval(
        mix(best, lamp.best, day.best),
        min(mix(s, lamp.low, day.low) for s in (low, best)),
        max(mix(s, lamp.high, day.high) for s in (low, best)),
    )


def span_light_rate(
    site: SiteView,
    catalog: Catalog,
    drug: str,
    form: str,
    location_id: int,
    packaging: str,
    start: float,
    end: float,
    lux_hours: float,
) -> Interval | None:
    """The joint rate per lux·h over ``[start, end]``: of the lux-weighted mean spectrum the spectral
    sensor measured (from its spectrum ledgers at the two ends), or the UV sensor's daylight mix, for the
    light it covered, the lamp's for the rest; None where only the product is known."""
    lamp_name = site.light(location_id).lamp
    lamp = _lamp_rate(catalog, drug, form, lamp_name, packaging)
    if lamp is None:
        return None
    if end <= start:
        return lamp
    sensor = site.spectral_sensor(location_id)
    if sensor is not None:
        a, b = spectral.ledgers_at(site.conn, sensor, start), spectral.ledgers_at(site.conn, sensor, end)
        delta = np.array(b.spectrum_wh_per_m2_nm) - np.array(a.spectrum_wh_per_m2_nm)
        seen = float(delta @ reconstruction(AS7341).lux)
        if seen <= 0.0:
            kappa_seen = b.spectral_lux_hours - a.spectral_lux_hours
            return None if kappa_seen > 0.0 else lamp
        measured = _spectrum_rate(catalog, drug, form, packaging, delta / seen)
        if measured is None:
            return None
        share = 1.0 if lux_hours <= 0.0 else min(seen / lux_hours, 1.0)
        return _blend(share, measured, lamp)
    uv = site.spectral_sensor(location_id, near_uv=True)
    if uv is None:
        return lamp
    seen = readings.cumulative_at(site.conn, uv, end) - readings.cumulative_at(site.conn, uv, start)
    if seen <= 0.0:
        return lamp
    near_uv = (
        spectral.ledgers_at(site.conn, uv, end).near_uv_wh_per_m2
        - spectral.ledgers_at(site.conn, uv, start).near_uv_wh_per_m2
    )
    measured = _uv_rate(catalog, drug, form, lamp, packaging, near_uv / seen)
    if measured is None:
        return None
    share = 1.0 if lux_hours <= 0.0 else min(seen / lux_hours, 1.0)
    return _blend(share, measured, lamp)


def current_light_rate(
    site: SiteView, catalog: Catalog, drug: str, form: str, location_id: int, packaging: str
) -> Interval | None:
    """The joint rate of the light now: the spectral sensor's newest spectrum, else the UV sensor's
    newest lit daylight mix, else the lamp's; None where only the product is known."""
    lamp = _lamp_rate(catalog, drug, form, site.light(location_id).lamp, packaging)
    if lamp is None:
        return None
    sensor = site.spectral_sensor(location_id)
    if sensor is not None:
        newest = spectral.latest_kappa(site.conn, sensor)
        if newest is None:
            return lamp
        return None if newest[2] is None else _spectrum_rate(catalog, drug, form, packaging, newest[2])
    uv = site.spectral_sensor(location_id, near_uv=True)
    lit = None if uv is None else spectral.latest_lit_near_uv(site.conn, uv, MIN_LUX_FOR_DAYLIGHT_SHARE)
    if lit is None:
        return lamp
    return _uv_rate(catalog, drug, form, lamp, packaging, lit[2] / lit[1])
