"""The model over the REST API: provenance beside values, bounds, time to threshold (additive fields)."""

from __future__ import annotations

import pytest

from monitor.model.profiles import Catalog
from tests.api.conftest import Served
from tests.api.test_api import feed_light
from tests.spectral_reference import thin_kappa, thin_kappa_of_source


def test_profiles_report_every_constant_with_provenance(served: Served) -> None:
    """GET /api/v1/profiles gives drugs, packaging and lamps, each constant with provenance and source."""
    body = served.client.get("/api/v1/profiles").json()
    meco = body["drugs"]["mecobalamin"]
    assert meco["k_thin_per_lux_hour"]["provenance"] == "derived"
    assert meco["k_thin_per_lux_hour"]["low"] == pytest.approx(1.414e-3)
    assert meco["k_ref_per_hour"]["provenance"] == "assumed"
    # The carton's τ is derived from paperboard's measured transmission (spectral_model.toml, J Food Prot
    # 1983): small, not the assumed 0 it was.
    carton = body["packaging"]["in-carton"]["tau"]
    assert carton["provenance"] == "derived"
    assert 0 < carton["low"] <= carton["value"] <= carton["high"] < 0.05
    # κ_s of a 4000 K LED: the thin solution's absorbed photons under CIE LED-B3 over FL2 (0.98), no longer
    # §6's flat photon count (0.95); its range covers every form, ε(λ) and its proxies.
    led = body["lamps"]["led-4000k"]["kappa"]
    assert led["provenance"] == "derived"
    assert led["value"] == pytest.approx(thin_kappa("led-4000k"), rel=1e-9)
    assert led["low"] < led["value"] < led["high"]
    assert "§6" in led["source"]


def test_one_vial_reports_its_parameters_with_provenance(served: Served, catalog: Catalog) -> None:
    """GET /api/v1/vials/{id} lists the constants behind its rate: κ_s of the unconfigured lamp is assumed."""
    vials = {v["key"]: v for v in served.client.get("/api/v1/vials").json()}
    assert vials["roze-0002"]["model_parameters"] is None  # the list stays light
    one = served.client.get(f"/api/v1/vials/{vials['roze-0002']['id']}").json()
    params = {p["symbol"]: p for p in one["model_parameters"]}
    assert one["lamp"] == "unknown"
    assert params["κ_s"]["provenance"] == "assumed"
    # Unknown lamp: every §6 CIE source, each weighted by what the forms absorb (0.63-1.77 by photon count).
    unknown = catalog.lamp("unknown").kappa
    assert (params["κ_s"]["low"], params["κ_s"]["high"]) == (unknown.lowest, unknown.highest)
    assert params["κ_s"]["low"] == pytest.approx(0.72, abs=0.01)
    assert params["κ_s"]["high"] >= thin_kappa_of_source("D65")  # open daylight, 1.69 for a thin solution
    # The light-protected vial's transmittance is amber glass's spectral curve weighted by what the drug
    # absorbs (0.21 for a thin solution under FL2), no longer a flat assumed 0.3.
    assert params["τ_pkg"]["value"] == pytest.approx(0.21, abs=0.005)
    assert params["c"]["provenance"] == "derived"
    assert params["t_label"]["value"] == 60.0
    assert params["F(A)"]["value"] < 0.05  # reconstituted Rozebalamin is optically thick


def test_vial_potency_has_bounds_around_best(served: Served, catalog: Catalog) -> None:
    """After light, each vial's potency has best within low and high; existing fields keep their values."""
    feed_light(served, catalog, 1801, 500.0)
    for v in served.client.get("/api/v1/vials").json():
        b = v["potency_bounds_percent"]
        assert b["low"] <= b["best"] <= b["high"]
        assert b["best"] == v["potency_percent"]
        assert v["time_to_threshold"]["threshold_percent"] == 90.0
    infusion = next(v for v in served.client.get("/api/v1/vials").json() if v["key"] == "infusion-0001")
    # Effective lux·h are κ_s·τ_pkg·lux·h: the infusion bag's wall passes 0.88 (spectral_model.toml), the
    # form's rate being the bare solution's.
    tau = catalog.packaging_state("infusion-container").tau.value
    assert infusion["effective_lux_hours"] == pytest.approx(250.0 * tau, rel=1e-3)
    assert infusion["potency_bounds_percent"]["low"] < infusion["potency_percent"] - 5  # unknown lamp: wide


def test_locations_report_lamp_and_its_spectrum_factor(served: Served) -> None:
    """GET /api/v1/locations adds the lamp, κ_s with provenance and the worst-case lux (additive fields)."""
    (loc,) = served.client.get("/api/v1/locations").json()
    assert loc["lamp"] == "unknown"
    assert loc["spectrum_factor"]["value"] == 1.0
    assert loc["spectrum_factor"]["provenance"] == "assumed"
    assert loc["worst_case_lux"] is None
    assert "cumulative_lux_hours" in loc


def test_potency_history_falls_and_keeps_best_within_bounds(served: Served, catalog: Catalog) -> None:
    """GET /api/v1/vials/{id}/potency gives evenly spaced best/low/high from registration, never rising."""
    feed_light(served, catalog, 1801, 500.0)
    v = next(v for v in served.client.get("/api/v1/vials").json() if v["key"] == "infusion-0001")
    history = served.client.get(f"/api/v1/vials/{v['id']}/potency", params={"points": 7}).json()
    assert len(history) == 7
    assert history[0]["potency_percent"]["best"] == 100.0
    assert history[-1]["potency_percent"]["best"] == pytest.approx(v["potency_percent"], abs=1e-3)
    bests = [h["potency_percent"]["best"] for h in history]
    assert bests == sorted(bests, reverse=True)
    assert all(h["potency_percent"]["low"] <= h["potency_percent"]["best"] for h in history)
    assert served.client.get(f"/api/v1/vials/{v['id']}/potency", params={"points": 1}).status_code == 422
