"""GET /api/v1/locations reports a spectral sensor's measured κ_s and a UV sensor's near-UV dose."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.routes.sites import location_schema
from monitor.config import Settings, parse_settings
from monitor.locations import summarise
from monitor.model.profiles import Catalog
from monitor.store import sites
from monitor.store.sqlite_store import SqliteStore
from tests.api.conftest import Served
from tests.conftest import simulated_raw
from tests.firmware_bridge.test_spectral_pipeline import run_site, spectral_settings
from tests.spectral_reference import thin_kappa, thin_kappa_of_source


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The simulated site with an AS7341 and an LTR390 beside its TSL2591, under daylight at 1000 lx."""
    return spectral_settings(tmp_path, "daylight-window", 1000.0)


def test_locations_report_measured_kappa_and_near_uv(served: Served, catalog: Catalog) -> None:
    """After ten minutes of daylight: κ_s measured with its range and provenance, and the near-UV dose
    (D65: 0.54 W/m² per klx) as a share of the ICH Q1B 200 W·h/m², with its assumption stated."""
    run_site(served.settings, catalog, 602).close()
    (location,) = served.client.get("/api/v1/locations").json()
    kappa = location["measured_spectrum_factor"]
    assert kappa["low"] < kappa["value"] < kappa["high"]
    # D65's own κ_s (the integral under its spectrum, thin MeCbl) lies inside the measured range.
    assert kappa["low"] <= thin_kappa_of_source("D65") <= kappa["high"]
    assert kappa["provenance"] == "derived"
    assert "fridge-1-spectrum" in kappa["source"]
    uv = location["near_uv"]
    assert uv["sensor"] == "fridge-1-uv"
    assert uv["wh_per_m2"] == pytest.approx(0.54 * 600 / 3600, rel=0.08)
    assert uv["fraction_of_ich_q1b"] == pytest.approx(uv["wh_per_m2"] / 200.0)
    assert "assumed 5 W/m²" in uv["assumption"]


def test_location_without_spectral_sensors_reports_neither(tmp_path: Path, catalog: Catalog) -> None:
    """The shipped site's location has no spectral or UV sensor: both fields are null, not zero."""
    settings = parse_settings(simulated_raw(), "simulated.toml", {"db_path": tmp_path / "v.db"})
    conn = run_site(settings, catalog, 5)
    summary = summarise(conn, sites.location_by_key(conn, "fridge-1"))
    shown = location_schema(SqliteStore(conn), catalog, summary, settings)
    assert shown.measured_spectrum_factor is None
    assert shown.near_uv is None


def test_vial_reports_the_measured_kappa_behind_its_potency(served: Served, catalog: Catalog) -> None:
    """A vial at a location with a spectral sensor lists the measured-spectrum factor among its model
    parameters and the measured κ_s among what widened its bounds."""
    run_site(served.settings, catalog, 120).close()
    vials = {v["key"]: v["id"] for v in served.client.get("/api/v1/vials").json()}
    vial = served.client.get(f"/api/v1/vials/{vials['infusion-0001']}").json()
    lamp = next(p for p in vial["model_parameters"] if p["symbol"] == "κ_s")
    assert "Spectrum measured at the location" in lamp["name"]
    factor = catalog.lamp("measured-spectrum").kappa  # the channel estimate's error: 0.95-1.30
    assert (lamp["low"], lamp["high"]) == (factor.lowest, factor.highest)
    assert any("from the spectrum measured by fridge-1-spectrum" in n for n in vial["potency_uncertainty"])


def test_a_calibrated_uv_sensor_replaces_the_assumed_irradiance_per_uv_index(
    tmp_path: Path, catalog: Catalog
) -> None:
    """calibration.near_uv_w_per_m2_per_uvi scales the near-UV dose and is named instead of the assumption."""
    assumed_site = spectral_settings(tmp_path / "assumed", "daylight-window", 1000.0)
    sensors = [
        s.model_copy(
            update={"calibration": s.calibration.model_copy(update={"near_uv_w_per_m2_per_uvi": 10.0})}
        )
        if s.key == "fridge-1-uv"
        else s
        for s in assumed_site.sensors
    ]
    calibrated_site = spectral_settings(tmp_path / "calibrated", "daylight-window", 1000.0).model_copy(
        update={"sensors": sensors}
    )
    shown = []
    for site in (assumed_site, calibrated_site):
        conn = run_site(site, catalog, 302)
        summary = summarise(conn, sites.location_by_key(conn, "fridge-1"))
        shown.append(location_schema(SqliteStore(conn), catalog, summary, site).near_uv)
        conn.close()
    assumed, calibrated = shown
    assert assumed is not None
    assert calibrated is not None
    assert calibrated.wh_per_m2 == pytest.approx(2.0 * assumed.wh_per_m2, rel=0.02)  # 10 against 5 W/m²
    assert "from the sensor's calibration" in calibrated.assumption
    assert "assumed" in assumed.assumption


@pytest.mark.parametrize(
    ("lamp", "kappa_of"),
    [("daylight-window", "daylight-window"), ("led-4000k", "led-4000k")],
    ids=["daylight", "led"],
)
def test_a_uv_sensor_alone_gives_kappa_from_the_daylight_share(
    tmp_path: Path, catalog: Catalog, lamp: str, kappa_of: str
) -> None:
    """Only an LTR390 beside the lux sensor, through the genuine driver on the emulated chip: in daylight
    its near-UV per lux makes the light all daylight (κ_s the daylight-window lamp's, ID65 best, 1.57 for a
    thin solution, its range over ID65, D65 and every form) though the location's lamp is configured as an
    LED; under that LED it sees no near-UV and κ_s is the lamp's (0.98, with its range over the forms). The
    value says it rests on assumptions."""
    expected = catalog.lamp(kappa_of).kappa
    assert expected.value == pytest.approx(thin_kappa(kappa_of))  # the integral under the CIE spectrum
    kappa = (expected.value, expected.lowest, expected.highest)
    site = spectral_settings(tmp_path, lamp, 1000.0)
    site = site.model_copy(
        update={
            "sensors": [s for s in site.sensors if s.driver != "as7341"],
            "locations": [site.locations[0].model_copy(update={"lamp": "led-4000k"})],
        }
    )
    conn = run_site(site, catalog, 120)
    summary = summarise(conn, sites.location_by_key(conn, "fridge-1"))
    shown = location_schema(SqliteStore(conn), catalog, summary, site).measured_spectrum_factor
    conn.close()
    assert shown is not None
    assert (shown.value, shown.low, shown.high) == pytest.approx(kappa, abs=0.01)
    assert shown.provenance == "assumed"
    assert "near-UV per lux measured by fridge-1-uv" in shown.source
    assert "no near-UV" in shown.source
