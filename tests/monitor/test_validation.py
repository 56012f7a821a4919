"""The model against the reference's data: coverage of every observation, errors, the written report."""

from __future__ import annotations

from pathlib import Path

from monitor.model import validation
from monitor.model.profiles import Catalog

ROOT = Path(__file__).resolve().parents[2]


def test_every_calibration_observation_lies_in_the_band_under_any_lamp(catalog: Catalog) -> None:
    """V1-V3 lie inside the predicted band whatever lamp type a site configures (the source's is unknown)."""
    obs = validation.calibration_observations(catalog)
    lamps = {o.lamp for o in obs}
    assert {"unknown", "fluorescent-cool-white", "led-2700k", "daylight-window"} <= lamps
    assert [o for o in obs if not o.inside] == []


def test_dilute_series_errors_stay_within_four_points(catalog: Catalog) -> None:
    """Under the assumed source lamp the best estimate is within 4 percentage points of V1-V3."""
    obs = [o for o in validation.calibration_observations(catalog) if o.lamp == "fluorescent-cool-white"]
    assert len(obs) == 3
    assert max(abs(o.error_points) for o in obs) <= validation.DILUTE_ERROR_LIMIT_POINTS


def test_product_checks_order_the_forms(catalog: Catalog) -> None:
    """Thin solution first, then the ampoule, then the reconstituted vial; the carton protects most."""
    checks = {(c.form, c.packaging): c for c in validation.product_checks(catalog)}
    assert (
        checks["dilute-infusion", "infusion-container"].lux_hours_best
        < checks["methycobal-500ug-ampoule", "amber-glass"].lux_hours_best
        < checks["rozebalamin-25mg", "light-protected-vial"].lux_hours_best
    )
    assert all(c.lux_hours_low <= c.lux_hours_best <= c.lux_hours_high for c in checks.values())
    roze = checks["rozebalamin-25mg", "window-open"]
    assert roze.label_minutes == 60.0


def test_the_shipped_report_is_current(catalog: Catalog) -> None:
    """docs/validation.md is what `vialguard validate` writes from the shipped data."""
    assert (ROOT / "docs/validation.md").read_text(encoding="utf-8") == validation.report(catalog)
