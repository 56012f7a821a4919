"""Lamp spectrum factor κ_s per location, the optional temperature factor on k_L, constants' ranges."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.errors import ConfigError
from monitor.exposure import vial_potency
from monitor.model import kinetics
from monitor.model.profiles import Catalog, load_catalog
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store import vials as vial_store
from tests.conftest import simulated_raw

# §6 table: µmol m⁻² s⁻¹ at 300-560 nm per 1000 lx, and the lamp key vialguard gives each CIE source: the
# photon-count κ_s the model used before it weighted photons by MeCbl's ε(λ).
PHOTONS_PER_KLX = {
    "fluorescent-cool-white": 6.23,
    "fluorescent-warm-white": 4.01,
    "fluorescent-triband": 6.98,
    "led-2700k": 3.92,
    "led-4000k": 5.94,
    "led-6500k": 7.91,
    "daylight-window": 10.5,
    "incandescent": 4.9,
}


def site(tmp_path: Path, **location: Any) -> Settings:
    raw = simulated_raw()
    raw["locations"][0].update(location)
    return parse_settings(raw, "simulated.toml", {"db_path": tmp_path / "v.db"})


def open_site(settings: Settings, catalog: Catalog, clock: ManualClock) -> tuple[sqlite3.Connection, Engine]:
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, clock.wall())
    return conn, Engine(conn, catalog, default_rules(settings.rules.thresholds()))


def light(engine: Engine, t0: float, seconds: int, lux: float, celsius: float | None = None) -> None:
    for start in range(0, seconds, 500):
        stop = min(start + 500, seconds)
        temps = []
        if celsius is not None:
            temps = [TemperatureReading("fridge-1-temp", t0 + i, celsius) for i in range(start, stop, 10)]
        engine.ingest(
            Batch(
                light=[LightReading("fridge-1-lux", t0 + i, lux) for i in range(start, stop)],
                temperature=temps,
            ),
            t0 + stop,
        )


@pytest.mark.parametrize("lamp", sorted(PHOTONS_PER_KLX))
def test_lamp_kappa_weights_photons_by_what_the_drug_absorbs(catalog: Catalog, lamp: str) -> None:
    """Each lamp's κ_s is derived, the thin solution's integral under it over FL2's: within 0.75-1.25 of
    §6's photon-count ratio (blue-rich lamps lose, since MeCbl absorbs most at 520 nm and in the UV), and
    its range holds its best value."""
    photon_ratio = PHOTONS_PER_KLX[lamp] / PHOTONS_PER_KLX["fluorescent-cool-white"]
    kappa = catalog.lamp(lamp).kappa
    assert kappa.provenance == "derived"
    assert 0.75 * photon_ratio <= kappa.value <= 1.25 * photon_ratio
    assert kappa.lowest <= kappa.value <= kappa.highest


def test_warm_led_is_no_longer_underestimated(catalog: Catalog) -> None:
    """A 2700 K LED photolyses about 0.77 of FL2 per lux, not §6's photon count 0.63 (its light lies
    where MeCbl's αβ band absorbs); cool-white fluorescent stays the exact reference."""
    assert catalog.lamp("led-2700k").kappa.value == pytest.approx(0.77, abs=0.02)
    reference = catalog.lamp("fluorescent-cool-white").kappa
    assert (reference.value, reference.lowest, reference.highest) == (1.0, 1.0, 1.0)


def test_unconfigured_lamp_spans_every_source(catalog: Catalog) -> None:
    """No lamp configured: κ_s = 1, with a range holding every configurable lamp's."""
    unknown = catalog.lamp("unknown").kappa
    assert unknown.value == 1.0
    for key, lamp in catalog.lamps.items():
        if lamp.spectra:
            assert unknown.lowest <= lamp.kappa.value <= unknown.highest, key


@pytest.mark.parametrize("lamp", ["led-2700k", "daylight-window"])
def test_location_lamp_scales_the_effective_dose(
    tmp_path: Path, catalog: Catalog, clock: ManualClock, lamp: str
) -> None:
    """An hour at 500 lx under a lamp gives the infusion κ_s·τ·500 effective lux·h and f0·e^(−k·κ·τ·D)."""
    conn, engine = open_site(site(tmp_path, lamp=lamp), catalog, clock)
    light(engine, clock.wall(), 3601, 500.0)
    vial = vial_store.by_key(conn, "infusion-0001")
    assert vial is not None
    p = vial_potency(conn, catalog, vial)
    assert p.lamp == lamp
    kappa = catalog.lamp(lamp).kappa.value
    tau = catalog.packaging["infusion-container"].tau.value
    assert p.effective_lux_hours == pytest.approx(kappa * tau * 500.0, rel=1e-3)
    drug = catalog.drug("mecobalamin")
    joint = catalog.light_rate(
        "mecobalamin",
        drug.forms["dilute-infusion"],
        catalog.lamp(lamp),
        catalog.packaging["infusion-container"],
    )
    assert joint is not None
    assert p.percent == pytest.approx(100 * math.exp(-joint.best * 500.0), rel=1e-3)


def test_unknown_lamp_in_config_names_the_key(tmp_path: Path) -> None:
    """A location naming an undefined lamp type fails at load, naming locations[0].lamp and the known ones."""
    with pytest.raises(
        ConfigError, match=r"locations\[0\]\.lamp: unknown lamp type 'sodium'; known: daylight"
    ):
        site(tmp_path, lamp="sodium")


def test_constant_range_must_hold_its_value(tmp_path: Path) -> None:
    """A profile constant whose low end lies above its value is refused, naming the constant."""
    extra = tmp_path / "profiles.toml"
    extra.write_text(
        '[lamps.odd]\ndescription = "x"\n'
        'kappa = { value = 1.0, provenance = "assumed", source = "test", low = 1.5 }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"lamps\.odd\.kappa: Value error, low 1.5 is above the value 1"):
        load_catalog(extra)


def _with_light_ea(tmp_path: Path) -> Path:
    extra = tmp_path / "profiles.toml"
    shipped = load_catalog().drug("mecobalamin")
    extra.write_text(
        '[drugs.warm]\nname = "warm"\n'
        + "\n".join(
            f'{name} = {{ value = {c.value!r}, provenance = "{c.provenance}", source = "test" }}'
            for name, c in (
                ("k_thin_per_lux_hour", shipped.k_thin_per_lux_hour),
                ("epsilon_per_molar_cm", shipped.epsilon_per_molar_cm),
                ("molar_mass_g_per_mol", shipped.molar_mass_g_per_mol),
                ("activation_energy_kj_per_mol", shipped.activation_energy_kj_per_mol),
                ("k_ref_per_hour", shipped.k_ref_per_hour),
                ("t_ref_kelvin", shipped.t_ref_kelvin),
            )
        )
        + '\nlight_activation_energy_kj_per_mol = { value = 50.0, provenance = "assumed", source = "test" }\n'
        '[drugs.warm.forms.thin]\ndescription = "thin"\n'
        'concentration_mg_per_ml = { value = 0.002, provenance = "assumed", source = "test" }\n'
        'path_cm = { value = 1.0, provenance = "assumed", source = "test" }\n',
        encoding="utf-8",
    )
    return extra


def test_no_temperature_factor_on_light_by_default(catalog: Catalog) -> None:
    """§7: the shipped profile puts no temperature factor on k_L (g = 1 at any temperature)."""
    drug = catalog.drug("mecobalamin")
    assert kinetics.light_temperature_factor(drug, 310.0) == 1.0


def test_optional_temperature_factor_speeds_photolysis_when_warm(tmp_path: Path, clock: ManualClock) -> None:
    """With Ea_L set, light at 35 °C destroys more than the same light at T_ref, by the Arrhenius factor."""
    extra = _with_light_ea(tmp_path)
    catalog = load_catalog(extra)
    drug = catalog.drug("warm")
    g = kinetics.light_temperature_factor(drug, 308.15)
    assert g == pytest.approx(
        math.exp(-(50.0 / kinetics.GAS_CONSTANT_KJ_PER_MOL_K) * (1 / 308.15 - 1 / 298.15))
    )
    raw = simulated_raw()
    raw["drug_profiles_file"] = str(extra)
    raw["vials"] = [
        {
            "key": "w-1",
            "drug": "warm",
            "form": "thin",
            "lot": "L",
            "location": "fridge-1",
            "packaging": "infusion-container",
        }
    ]
    settings = parse_settings(raw, "simulated.toml", {"db_path": tmp_path / "v.db"})
    conn, engine = open_site(settings, catalog, clock)
    light(engine, clock.wall(), 1801, 500.0, celsius=35.0)
    vial = vial_store.by_key(conn, "w-1")
    assert vial is not None
    p = vial_potency(conn, catalog, vial)
    k = kinetics.photolysis_rate_per_lux_hour(drug, drug.forms["thin"])
    tau = catalog.packaging["infusion-container"].tau.value
    assert p.effective_lux_hours == pytest.approx(250.0 * tau, rel=1e-3)
    assert p.percent == pytest.approx(100 * math.exp(-k * 250.0 * tau * g), rel=2e-3)
