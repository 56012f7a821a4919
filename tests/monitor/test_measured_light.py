"""κ_s from a spectral sensor's channels replacing the configured lamp, and the near-UV dose per location."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hardware import spectra
from hardware.chips import as7341 as chip
from hardware.clock import ManualClock
from monitor import measured_light
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.errors import ConfigError
from monitor.exposure import vial_potency
from monitor.model.bounds import Interval
from monitor.model.profiles import Catalog
from monitor.model.spectral import AS7341, SpectralCounts, daylight_share, kappa_from_counts, kappa_of
from monitor.site_sync import sync_site
from monitor.site_view import SiteView
from monitor.store import Database, sites
from monitor.store import vials as vial_store
from tests.conftest import simulated_raw
from tests.spectral_reference import thin_kappa_of_source

# κ_s per CIE source, by the lamp key the emulator's spectra table knows it under: the photolysis integral
# under the source's own spectrum (thin MeCbl over FL2), as every configured lamp's κ_s. The §6 table's
# photon counts at 300-560 nm (FL4 0.64, LED-B1 0.63, D65 1.77, A 0.79) weighted every photon alike.
SOURCE_KAPPA = {lamp: thin_kappa_of_source(source) for lamp, source in spectra.LAMP_SOURCES.items()}


def filter_counts(lamp: str, lux: float = 1000.0) -> np.ndarray:
    """Noise-free AS7341 filter signals for ``lux`` of ``lamp`` light (the emulator's physics)."""
    signal = chip.photodiode_signals(lux, lamp)
    return np.array([[signal[ch.name[:2]] for ch in chip.FILTERS]])


def test_channel_table_matches_the_chip_and_the_cie_table() -> None:
    """The model's AS7341 peaks and widths are the chip's; its V(λ) values are the CIE 1924 table's."""
    assert AS7341.channels == tuple(ch.name for ch in chip.FILTERS)
    assert AS7341.peaks_nm == tuple(ch.peak_nm for ch in chip.FILTERS)
    assert AS7341.fwhm_nm == tuple(ch.fwhm_nm for ch in chip.FILTERS)
    t = spectra.table()
    assert np.allclose(AS7341.v_lambda, np.interp(AS7341.peaks_nm, t.wavelengths_nm, t.v_lambda))


def test_estimate_error_lies_within_the_profiles_measured_spectrum_range(catalog: Catalog) -> None:
    """A source's κ_s under its own spectrum over the channel estimate's, for all nine CIE sources, lies
    within the configured factor range: 0.95 (FL4) to 1.30 (D65, whose UV below the first channel MeCbl's
    342 and 375 nm bands absorb)."""
    factor = catalog.lamp(measured_light.MEASURED_SPECTRUM).kappa
    ratios = {
        lamp: k / float(kappa_from_counts(AS7341, filter_counts(lamp))[0]) for lamp, k in SOURCE_KAPPA.items()
    }
    assert all(factor.lowest <= r <= factor.highest for r in ratios.values()), ratios
    # The range is no wider than it must be: its ends are the extreme sources, to the rounding.
    assert min(ratios.values()) == pytest.approx(factor.lowest, abs=0.01)
    assert max(ratios.values()) == pytest.approx(factor.highest, abs=0.01)


def test_estimate_is_independent_of_lux_and_of_a_common_scale() -> None:
    """κ is a ratio: ten times the light, or a responsivity off by 3x on every channel, changes nothing."""
    one = kappa_from_counts(AS7341, filter_counts("led-4000k", 100.0))
    assert kappa_from_counts(AS7341, filter_counts("led-4000k", 1000.0)) == pytest.approx(one)
    assert kappa_from_counts(AS7341, 3.0 * filter_counts("led-4000k", 100.0)) == pytest.approx(one)


def reading(counts: tuple[int, ...], *, chip_name: str = "as7341", saturated: bool = False) -> SpectralCounts:
    names = (*AS7341.channels, "clear", "NIR_910")
    return SpectralCounts(chip_name, names, counts, 128.0, 280.78, saturated)


@pytest.mark.parametrize(
    ("counts", "kw"),
    [
        ((0,) * 10, {}),
        ((0, 1, 0, 2, 1, 0, 1, 0, 14, 0), {}),
        ((900, 800, 700, 600, 500, 400, 300, 200, 5000, 0), {"saturated": True}),
        ((900, 800, 700, 600, 500, 400, 300, 200, 5000, 0), {"chip_name": "ltr390"}),
    ],
    ids=["dark", "count-noise", "saturated", "no-spectral-channels"],
)
def test_no_kappa_without_a_trustworthy_spectrum(counts: tuple[int, ...], kw: dict[str, Any]) -> None:
    """Darkness, count noise, a saturated channel or a chip without filter channels give no κ_s, never
    a guess."""
    assert kappa_of(reading(counts, **kw)) is None


# -- in the model ---------------------------------------------------------------------------------------


def site(tmp_path: Path, lamp: str | None = None) -> Settings:
    raw = simulated_raw()
    raw["sensors"].append(
        {"key": "fridge-1-spectrum", "location": "fridge-1", "quantity": "light", "driver": "as7341"}
    )
    if lamp is not None:
        raw["locations"][0]["lamp"] = lamp
    return parse_settings(raw, "spectral.toml", {"db_path": tmp_path / "v.db"})


def open_site(settings: Settings, catalog: Catalog) -> tuple[sqlite3.Connection, Engine]:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, ManualClock().wall())
    return conn, Engine(conn, catalog, default_rules(settings.rules.thresholds()))


def spectrum_of(lamp: str, lux: float) -> SpectralCounts:
    signal = chip.photodiode_signals(lux, lamp)
    counts = tuple(round(1000.0 * signal[ch.name[:2]]) for ch in chip.FILTERS)
    return reading((*counts, 0, 0))


def expose(engine: Engine, t0: float, seconds: int, lux: float, lamp: str, spectral_seconds: int) -> None:
    """``lux`` on the primary sensor for ``seconds``; the spectral sensor reads only the first part."""
    engine.ingest(
        Batch(
            light=[
                *(LightReading("fridge-1-lux", t0 + i, lux) for i in range(seconds + 1)),
                *(
                    LightReading("fridge-1-spectrum", t0 + i, lux, spectrum=spectrum_of(lamp, lux))
                    for i in range(spectral_seconds + 1)
                ),
            ]
        ),
        t0 + seconds,
    )


def bag(catalog: Catalog) -> float:
    """τ_pkg of the infusion's bag wall, 0.88 (spectral_model.toml): effective lux·h are κ_s·τ_pkg·lux·h."""
    return catalog.packaging_state("infusion-container").tau.value


def infusion(conn: sqlite3.Connection, catalog: Catalog, now: float) -> tuple[Interval, tuple[str, ...]]:
    """The infusion vial's effective lux·h (best, low, high) and what widened its bounds."""
    vial = vial_store.by_key(conn, "infusion-0001")
    assert vial is not None
    p = vial_potency(conn, catalog, vial, now=now)
    return p.effective_lux_hours_range, p.uncertainty


@pytest.mark.parametrize("lamp", ["incandescent", "led-6500k", "fluorescent-cool-white"])
def test_measured_kappa_replaces_the_unknown_lamp(tmp_path: Path, catalog: Catalog, lamp: str) -> None:
    """Under each lamp the effective dose takes the measured κ_s (within 8 % of the integral under the
    lamp's own spectrum) and says so; the range narrows from unknown's to the estimate's 0.95-1.30 (times
    the bag's τ range)."""
    conn, engine = open_site(site(tmp_path), catalog)
    t0 = vial_store.by_key(conn, "infusion-0001").registered_ts + 10.0  # type: ignore[union-attr]
    expose(engine, t0, 600, 500.0, lamp, 600)
    lux_hours = 500.0 * 600 / 3600
    effective, notes = infusion(conn, catalog, t0 + 600)
    assert effective.best == pytest.approx(SOURCE_KAPPA[lamp] * bag(catalog) * lux_hours, rel=0.08)
    tau = catalog.packaging_state("infusion-container").tau  # the bag's own range, 0.79-0.93
    factor = catalog.lamp(measured_light.MEASURED_SPECTRUM).kappa
    assert effective.high / effective.low == pytest.approx(
        factor.highest / factor.lowest * tau.highest / tau.lowest, rel=0.02
    )
    assert any("from the spectrum measured by fridge-1-spectrum" in n for n in notes)


def test_light_the_spectral_sensor_missed_keeps_the_configured_lamp(tmp_path: Path, catalog: Catalog) -> None:
    """The spectral sensor silent for half the light: half the dose at the measured κ_s, half at the
    configured lamp's, and the note says how much it covered."""
    conn, engine = open_site(site(tmp_path, lamp="led-4000k"), catalog)
    t0 = vial_store.by_key(conn, "infusion-0001").registered_ts + 10.0  # type: ignore[union-attr]
    expose(engine, t0, 600, 500.0, "incandescent", 300)
    measured = float(kappa_of(spectrum_of("incandescent", 500.0)) or 0.0)
    lux_hours = 500.0 * 600 / 3600
    effective, notes = infusion(conn, catalog, t0 + 600)
    lamp = catalog.lamp("led-4000k").kappa.value
    assert effective.best == pytest.approx((0.5 * measured + 0.5 * lamp) * bag(catalog) * lux_hours, rel=0.01)
    assert any("over 50% of the light, lamp 'led-4000k' for the rest" in n for n in notes)


def test_time_to_threshold_uses_the_newest_measured_kappa(tmp_path: Path, catalog: Catalog) -> None:
    """At current light, the hours left scale with the measured κ_s (incandescent: 0.90 by the integral
    under illuminant A, §6's photon count 0.79), not the unknown lamp's 1.0."""
    conn, engine = open_site(site(tmp_path), catalog)
    t0 = vial_store.by_key(conn, "infusion-0001").registered_ts + 10.0  # type: ignore[union-attr]
    expose(engine, t0, 60, 500.0, "incandescent", 60)
    site_view = SiteView(conn)
    location = sites.location_by_key(conn, "fridge-1").id
    now = measured_light.current_kappa(site_view, catalog, location)
    assert now.best == pytest.approx(SOURCE_KAPPA["incandescent"], rel=0.08)


def test_measured_spectrum_is_not_a_lamp_to_configure(tmp_path: Path) -> None:
    """Configuring the measured-spectrum factor as a location's lamp fails naming the key and why."""
    with pytest.raises(ConfigError, match=r"locations\[0\]\.lamp: 'measured-spectrum' is set by a spectral"):
        site(tmp_path, lamp="measured-spectrum")


def test_dark_fridge_keeps_the_last_measured_kappa(tmp_path: Path, catalog: Catalog) -> None:
    """After the door closes the spectral sensor sees nothing; κ_s now is the last one it measured."""
    conn, engine = open_site(site(tmp_path), catalog)
    t0 = vial_store.by_key(conn, "infusion-0001").registered_ts + 10.0  # type: ignore[union-attr]
    expose(engine, t0, 60, 500.0, "incandescent", 60)
    dark = reading((0, 1, 0, 0, 1, 0, 0, 0, 3, 0))
    engine.ingest(
        Batch(light=[LightReading("fridge-1-spectrum", t0 + 61 + i, 0.0, spectrum=dark) for i in range(60)]),
        t0 + 121,
    )
    location = sites.location_by_key(conn, "fridge-1").id
    measured = measured_light.latest_measured_kappa(SiteView(conn), catalog, location)
    assert measured is not None
    assert measured[0] == t0 + 60
    assert measured[1].best == pytest.approx(SOURCE_KAPPA["incandescent"], rel=0.08)


# -- a UV sensor alone: the daylight share of the light ---------------------------------------------------

# §6, 300-400 nm per lux: ID65 indoor daylight 0.36 W/m² per 1000 lx.
ID65_NEAR_UV_PER_LUX = 0.36e-3


def test_daylight_share_from_near_uv_per_lux() -> None:
    """None under a lamp without near-UV; all at indoor daylight's §6 ratio (two thirds if it was open
    daylight, D65); clipped at all; never below none."""
    assert daylight_share(0.0) == (0.0, 0.0)
    assert daylight_share(ID65_NEAR_UV_PER_LUX) == pytest.approx((1.0, 0.36 / 0.54))
    assert daylight_share(0.5 * ID65_NEAR_UV_PER_LUX) == pytest.approx((0.5, 0.18 / 0.54))
    assert daylight_share(2.0 * ID65_NEAR_UV_PER_LUX) == (1.0, 1.0)
    assert daylight_share(-1e-6) == (0.0, 0.0)


def uv_site(tmp_path: Path, lamp: str) -> Settings:
    raw = simulated_raw()
    raw["sensors"].append(
        {"key": "fridge-1-uv", "location": "fridge-1", "quantity": "light", "driver": "ltr390"}
    )
    raw["locations"][0]["lamp"] = lamp
    return parse_settings(raw, "uv.toml", {"db_path": tmp_path / "v.db"})


def uv_reading(lux: float, daylight: float) -> SpectralCounts:
    """An LTR390 reading under ``lux`` of which ``daylight`` (a share) is ID65 and the rest a lamp with no
    near-UV."""
    return SpectralCounts(
        "ltr390", ("uvs",), (100,), 18.0, 400.0, False, daylight * ID65_NEAR_UV_PER_LUX * lux
    )


def expose_uv(engine: Engine, t0: float, seconds: int, lux: float, daylight: float, uv_seconds: int) -> None:
    engine.ingest(
        Batch(
            light=[
                *(LightReading("fridge-1-lux", t0 + i, lux) for i in range(seconds + 1)),
                *(
                    LightReading("fridge-1-uv", t0 + i, lux, spectrum=uv_reading(lux, daylight))
                    for i in range(uv_seconds + 1)
                ),
            ]
        ),
        t0 + seconds,
    )


def test_uv_sensor_mixes_the_lamp_and_daylight_in_the_shares_its_near_uv_gives(
    tmp_path: Path, catalog: Catalog
) -> None:
    """A neutral LED lamp (κ 0.98) and as much daylight (ID65, κ 1.57, thin solution): κ_s halfway, its range
    from daylight taken as open (D65: a third of the light) at the low ends of the lamps' ranges to half
    daylight at their high ends; the note names the share and the assumptions."""
    conn, engine = open_site(uv_site(tmp_path, "led-4000k"), catalog)
    t0 = vial_store.by_key(conn, "infusion-0001").registered_ts + 10.0  # type: ignore[union-attr]
    expose_uv(engine, t0, 600, 500.0, 0.5, 600)
    lux_hours = 500.0 * 600 / 3600 * bag(catalog)
    led, day = catalog.lamp("led-4000k").kappa, catalog.lamp("daylight-window").kappa
    effective, notes = infusion(conn, catalog, t0 + 600)
    assert effective.best == pytest.approx((led.value + 0.5 * (day.value - led.value)) * lux_hours, rel=1e-3)
    low = led.lowest + (0.18 / 0.54) * (day.lowest - led.lowest)
    high = led.highest + 0.5 * (day.highest - led.highest)
    tau = catalog.packaging_state("infusion-container").tau  # the bag's own range, 0.79-0.93
    assert effective.high / effective.low == pytest.approx(high / low * tau.highest / tau.lowest, rel=0.02)
    note = next(n for n in notes if "by the near-UV fridge-1-uv saw" in n)
    assert "50% of the light daylight" in note
    assert "lamp 'led-4000k' the rest" in note
    assert "assumed W/m² per UV index" in note


def test_uv_sensor_seeing_no_near_uv_keeps_the_lamp_and_covers_only_what_it_saw(
    tmp_path: Path, catalog: Catalog
) -> None:
    """Under the LED alone κ_s is the lamp's. Then daylight as bright, seen by the UV sensor for half of
    it: over the vial's whole stretch the sensor saw three quarters of the light, a third of that
    daylight; the quarter it missed keeps the lamp's κ."""
    conn, engine = open_site(uv_site(tmp_path, "led-4000k"), catalog)
    t0 = vial_store.by_key(conn, "infusion-0001").registered_ts + 10.0  # type: ignore[union-attr]
    expose_uv(engine, t0, 600, 500.0, 0.0, 600)
    lux_hours = 500.0 * 600 / 3600 * bag(catalog)
    led, day = catalog.lamp("led-4000k").kappa.value, catalog.lamp("daylight-window").kappa.value
    effective, _ = infusion(conn, catalog, t0 + 600)
    assert effective.best == pytest.approx(led * lux_hours, rel=1e-3)

    later = t0 + 601
    expose_uv(engine, later, 600, 500.0, 1.0, 300)
    effective, notes = infusion(conn, catalog, later + 600)
    daylight_half = 0.5 * day + 0.5 * led
    assert effective.best == pytest.approx((led + daylight_half) * lux_hours, rel=0.01)
    assert any("over 75% of the light, lamp 'led-4000k' alone for the rest" in n for n in notes)
    assert any("33% of the light daylight" in n for n in notes)


def test_uv_sensor_gives_kappa_now_and_a_dark_fridge_keeps_the_last_lit(
    tmp_path: Path, catalog: Catalog
) -> None:
    """The dashboard's κ_s now: the daylight mix at the UV sensor's last reading with light."""
    conn, engine = open_site(uv_site(tmp_path, "fluorescent-cool-white"), catalog)
    t0 = vial_store.by_key(conn, "infusion-0001").registered_ts + 10.0  # type: ignore[union-attr]
    expose_uv(engine, t0, 60, 500.0, 1.0, 60)
    engine.ingest(
        Batch(
            light=[
                LightReading("fridge-1-uv", t0 + 61 + i, 0.05, spectrum=uv_reading(0.05, 1.0 * 40))
                for i in range(30)
            ]
        ),
        t0 + 91,
    )
    location = sites.location_by_key(conn, "fridge-1").id
    measured = measured_light.latest_measured_kappa(SiteView(conn), catalog, location)
    assert measured is not None
    assert measured[0] == t0 + 60  # not the dark readings' ratio of noise
    day = catalog.lamp("daylight-window").kappa.value  # ID65 for a thin solution: 1.57 (1.69 by photon count)
    assert measured[1].best == pytest.approx(day)
    assert measured_light.current_kappa(SiteView(conn), catalog, location).best == pytest.approx(day)
