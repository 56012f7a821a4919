"""The light rate where a spectral sensor measured the light: the photolysis integral of its spectrum.

The AS7341's estimate (:mod:`monitor.model.spectral`: irradiance at each filter peak, joined linearly, none
below 402 nm) goes into the same integral as a lamp's spectrum, through the container's transmittance and
the drug's absorption over its path, per form and packaging. Over a stretch, the spectrum ledgers give the
lux-weighted mean spectrum, whose rate is the lux-weighted mean of the readings' rates.

Tolerance: for the lamps without near-UV (fluorescent, LED, incandescent) the estimate's rate lies within
0.949-1.052 of the rate under the lamp's own spectrum for every form and packaging state (computed below);
daylight's is lower (no channel sees its 300-400 nm), which the measured-spectrum factor's range (to
1.30) covers.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from hardware import spectra
from hardware.chips import as7341 as chip
from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.exposure import vial_potency
from monitor.model.profiles import Catalog
from monitor.model.spectra import source_photon_flux, thin_kappa
from monitor.model.spectral import AS7341, SpectralCounts, peaks_per_lux, photon_flux_of_peaks
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store import vials as vial_store
from tests.conftest import simulated_raw

DRUG = "mecobalamin"
LAMPS_WITHOUT_NEAR_UV = [
    "fluorescent-cool-white",
    "fluorescent-warm-white",
    "fluorescent-triband",
    "led-2700k",
    "led-4000k",
    "led-6500k",
    "incandescent",
]
RECONSTRUCTION_REL = 0.06  # the estimate's rate over the lamp's own, lamps without near-UV (module doc)


def peaks_under(lamp: str, lux: float = 500.0) -> np.ndarray:
    """Peak irradiances per lux from noise-free AS7341 filter signals under ``lamp`` (the emulator)."""
    signal = chip.photodiode_signals(lux, lamp)
    return peaks_per_lux(AS7341, np.array([[signal[ch.name[:2]] for ch in chip.FILTERS]]))


@pytest.mark.parametrize("lamp", LAMPS_WITHOUT_NEAR_UV)
def test_a_measured_lamp_gives_the_lamps_joint_rate_for_every_form_and_state(
    catalog: Catalog, lamp: str
) -> None:
    """Measured through the channels, a lamp's light gives the rate of that lamp configured within the
    estimate's 5 % for every form in every packaging state, and its band holds the lamp's best rate."""
    peaks = peaks_under(lamp)
    for form_name in catalog.drugs[DRUG].forms:
        form = catalog.form(DRUG, form_name)
        for state_name in catalog.packaging:
            state = catalog.packaging_state(state_name)
            configured = catalog.light_rate(DRUG, form, catalog.lamp(lamp), state)
            linear = catalog.spectrum_rates(DRUG, form, state, AS7341)
            assert configured is not None
            assert linear is not None
            measured = linear.rates(peaks)
            assert float(measured.best[0]) == pytest.approx(configured.best, rel=RECONSTRUCTION_REL), (
                state_name
            )
            assert float(measured.low[0]) <= configured.best <= float(measured.high[0])


@pytest.mark.parametrize(
    ("form", "state"), [("dilute-infusion", "amber-glass"), ("rozebalamin-25mg", "powder-in-vial")]
)
def test_the_channel_map_is_the_integral_of_the_estimated_spectrum(
    catalog: Catalog, form: str, state: str
) -> None:
    """The rate as a dot product of peak irradiances is the integral of the estimate's photon flux."""
    peaks = peaks_under("led-2700k")
    f, s = catalog.form(DRUG, form), catalog.packaging_state(state)
    flux = photon_flux_of_peaks(AS7341, peaks)
    whole = catalog.light_rate_of_spectrum(DRUG, f, flux, s)
    linear = catalog.spectrum_rates(DRUG, f, s, AS7341)
    assert whole is not None
    assert linear is not None
    r = linear.rates(peaks)
    assert (float(r.best[0]), float(r.low[0]), float(r.high[0])) == pytest.approx(
        (whole.best, whole.low, whole.high), rel=1e-12
    )


def test_the_mean_spectrum_rate_is_the_lux_weighted_mean_of_the_readings(catalog: Catalog) -> None:
    """A ledger's difference over readings under several lamps and lux gives, at every input's best
    value, the lux-weighted mean of each reading's rate (the integral is linear in the light); its band
    is no wider than the mean of the readings' bands."""
    rng = np.random.default_rng(21)
    lamps = ["led-2700k", "fluorescent-cool-white", "incandescent", "led-6500k", "daylight-window"]
    peaks = np.concatenate([peaks_under(lamp) for lamp in lamps])
    lux_hours = rng.uniform(1.0, 500.0, size=len(lamps))
    ledger = lux_hours @ peaks  # what the spectrum ledgers add up: irradiance per lux × lux × hours
    f, s = catalog.form(DRUG, "methycobal-500ug-ampoule"), catalog.packaging_state("amber-glass")
    linear = catalog.spectrum_rates(DRUG, f, s, AS7341)
    assert linear is not None
    each = linear.rates(peaks)
    mean = linear.rates(ledger / lux_hours.sum())
    weights = lux_hours / lux_hours.sum()
    assert float(mean.best[0]) == pytest.approx(float(weights @ each.best), rel=1e-12)
    assert float(mean.low[0]) >= float(weights @ each.low) * (1 - 1e-12)
    assert float(mean.high[0]) <= float(weights @ each.high) * (1 + 1e-12)


def test_daylight_behind_amber_is_weighted_by_what_passes_the_glass(catalog: Catalog) -> None:
    """Behind amber glass, measured daylight (CIE D65) destroys a thin solution at 0.97 and the ampoule at
    0.88 of the rate under cool-white fluorescent behind the same glass: the glass takes the blue and
    near-UV where daylight has its excess. The product of the measured κ_s and τ_pkg said 1.30 (§6's flat
    photon count: 1.77)."""
    d65 = peaks_under("daylight-window")
    assert spectra.source_of("daylight-window") == "D65"
    kappa = float(thin_kappa(photon_flux_of_peaks(AS7341, d65))[0])
    assert kappa == pytest.approx(1.30, abs=0.02)
    amber = catalog.packaging_state("amber-glass")
    for form_name, expected in (("dilute-infusion", 0.97), ("methycobal-500ug-ampoule", 0.88)):
        form = catalog.form(DRUG, form_name)
        fl2 = catalog.light_rate(DRUG, form, catalog.lamp("fluorescent-cool-white"), amber)
        true = catalog.light_rate_of_spectrum(DRUG, form, source_photon_flux("D65"), amber)
        linear = catalog.spectrum_rates(DRUG, form, amber, AS7341)
        assert fl2 is not None
        assert true is not None
        assert linear is not None
        ratio = float(linear.rates(d65).best[0]) / fl2.best
        assert ratio == pytest.approx(expected, abs=0.01)
        assert ratio == pytest.approx(true.best / fl2.best, rel=RECONSTRUCTION_REL)


# -- through the store and the engine ----------------------------------------------------------------------


def _site(tmp_path: Path, name: str, lamp: str, spectral: bool) -> Settings:
    raw = simulated_raw()
    if spectral:
        raw["sensors"].append(
            {"key": "fridge-1-spectrum", "location": "fridge-1", "quantity": "light", "driver": "as7341"}
        )
    raw["locations"][0]["lamp"] = lamp
    return parse_settings(raw, "site.toml", {"db_path": tmp_path / f"{name}.db"})


def _open(settings: Settings, catalog: Catalog) -> tuple[sqlite3.Connection, Engine]:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, ManualClock().wall())
    return conn, Engine(conn, catalog, default_rules(settings.rules.thresholds()))


def _counts(lamp: str, lux: float) -> SpectralCounts:
    signal = chip.photodiode_signals(lux, lamp)
    counts = tuple(round(1000.0 * signal[ch.name[:2]]) for ch in chip.FILTERS)
    return SpectralCounts("as7341", (*AS7341.channels, "clear", "NIR_910"), (*counts, 0, 0), 128.0, 280.78)


def _losses(conn: sqlite3.Connection, catalog: Catalog, now: float) -> dict[str, tuple[float, float]]:
    """Per vial: the light's loss −ln(f/f0) at the best values, and its loss rate now (per hour, from the
    best hours to the threshold)."""
    out = {}
    for vial in vial_store.list_all(conn):
        p = vial_potency(conn, catalog, vial, now=now)
        assert p.time_to_threshold is not None
        ttt = p.time_to_threshold
        rate_now = math.log(p.percent / ttt.threshold_percent) / ttt.hours_best
        out[vial.key] = (-math.log(p.percent / vial.initial_potency_percent), rate_now)
    return out


def _exposed(
    tmp_path: Path, catalog: Catalog, name: str, lamp: str, measured: str | None
) -> dict[str, tuple[float, float]]:
    """Two minutes at 500 lx at a site whose lamp is ``lamp``; with ``measured``, an AS7341 reads that
    light's spectrum every second."""
    conn, engine = _open(_site(tmp_path, name, lamp, measured is not None), catalog)
    t0 = max(v.registered_ts for v in vial_store.list_all(conn)) + 10.0
    light = [LightReading("fridge-1-lux", t0 + i, 500.0) for i in range(121)]
    if measured is not None:
        light += [
            LightReading("fridge-1-spectrum", t0 + i, 500.0, spectrum=_counts(measured, 500.0))
            for i in range(601)
        ]
    engine.ingest(Batch(light=light), t0 + 120)
    return _losses(conn, catalog, t0 + 120)


@pytest.mark.parametrize("lamp", ["led-2700k", "incandescent", "fluorescent-cool-white"])
def test_a_site_measuring_a_lamp_loses_what_the_site_configured_with_it_loses(
    tmp_path: Path, catalog: Catalog, lamp: str
) -> None:
    """Every vial (carton, amber, light-protected vial, infusion bag) loses under a lamp an AS7341 measured
    what it loses where that lamp is configured, within the estimate's 6 %, and its loss rate now (its time
    left) as closely: the measured spectrum, not the configured lamp 'unknown', sets the joint rate."""
    measured = _exposed(tmp_path, catalog, "measured", "unknown", lamp)
    configured = _exposed(tmp_path, catalog, "configured", lamp, None)
    for key, (loss, rate_now) in measured.items():
        assert loss == pytest.approx(configured[key][0], rel=RECONSTRUCTION_REL), key
        assert rate_now == pytest.approx(configured[key][1], rel=RECONSTRUCTION_REL), key


def test_daylight_an_as7341_measured_behind_amber_is_not_the_product(
    tmp_path: Path, catalog: Catalog
) -> None:
    """The amber ampoule under daylight an AS7341 measured loses 0.88 of what it loses under configured
    cool-white fluorescent light, where the product of the measured κ_s (1.30) and τ_pkg made it 1.30."""
    measured = _exposed(tmp_path, catalog, "measured", "unknown", "daylight-window")
    configured = _exposed(tmp_path, catalog, "configured", "fluorescent-cool-white", None)
    assert measured["methy-0001"][0] / configured["methy-0001"][0] == pytest.approx(0.88, abs=0.02)
