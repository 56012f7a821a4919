"""Light no sensor saw: bounded per packaging, by a stated assumption where the packaging passes little.

A vial in its closed carton at a location with no light sensor and no worst-case lux is taken at up to
the carton's assumed lux for unseen light (the drug profiles' ``unseen_lux``, 2,000 lx at its high end),
reported as an assumption; a vial out of its carton there keeps the conservative answer, a low bound of
0 %.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitor.model import evaluation
from monitor.model.inputs import EventFacts, LocationInputs, ModelInputs, VialInputs
from monitor.model.profiles import Catalog

HOUR = 3600.0
DRUG = "mecobalamin"


def _unseen(
    catalog: Catalog, packaging: str, form: str, hours: float, worst: float | None = None
) -> evaluation.VialEvaluation:
    """A vial ``hours`` at a location without a light sensor (nor temperature), in ``packaging``."""
    location = LocationInputs(1, "unknown", worst, None, None, None, None)
    vial = VialInputs(
        id=1,
        drug=DRUG,
        form=form,
        initial_potency_percent=100.0,
        registered_ts=0.0,
        events=(EventFacts(0.0, "registered", 1, packaging),),
        times=np.array([hours * HOUR]),
        as_of=hours * HOUR,
        now=None,
        silence_from=None,
    )
    return evaluation.evaluate_one(ModelInputs((vial,), {1: location}), catalog, 90.0)


@pytest.mark.parametrize("form", ["rozebalamin-25mg", "methycobal-500ug-ampoule", "dilute-infusion"])
def test_a_carton_under_unseen_light_is_bounded_by_the_assumed_lux(catalog: Catalog, form: str) -> None:
    """Eight unseen hours in the carton: the low bound is the carton's fastest joint rate (unknown lamp)
    at the assumption's high end, not 0 %, the best estimate sees no light, and the words name the
    assumption and its range."""
    assumed = catalog.packaging_state("in-carton").unseen_lux
    assert assumed is not None
    assert assumed.provenance == "assumed"
    assert (assumed.lowest, assumed.value, assumed.highest) == (0.0, 1000.0, 2000.0)
    e = _unseen(catalog, "in-carton", form, 8.0)
    rate = catalog.light_rate(
        DRUG, catalog.form(DRUG, form), catalog.lamp("unknown"), catalog.packaging_state("in-carton")
    )
    assert rate is not None
    k_ref = catalog.drug(DRUG).k_ref_per_hour.value
    assert e.percent.low == pytest.approx(100.0 * math.exp(-rate.high * 2000.0 * 8.0), rel=1e-9)
    assert e.percent.low > 0.0
    assert e.percent.best == pytest.approx(100.0, abs=1e-9 + 100 * k_ref * 8)
    assert any(
        "in 'in-carton' taken at up to 2000 lx, an assumption (1000 lx, range 0-2000" in w
        for w in e.uncertainty
    )


def test_the_reconstituted_vial_in_its_carton_for_a_day_keeps_most_of_its_potency(catalog: Catalog) -> None:
    """A day unseen in the carton, 2,000 lx at every hour of it, leaves reconstituted Rozebalamin's low
    bound at 92.4 %, above the 90 % critical threshold (it was 0 %)."""
    assert _unseen(catalog, "in-carton", "rozebalamin-25mg", 24.0).percent.low == pytest.approx(
        92.4, abs=0.05
    )


@pytest.mark.parametrize("packaging", ["window-open", "clear-glass", "amber-glass", "powder-window-open"])
def test_a_vial_out_of_its_carton_under_unseen_light_keeps_the_conservative_bound(
    catalog: Catalog, packaging: str
) -> None:
    """Out of its carton, unseen light stays unbounded: the low bound is 0 % and the words say why."""
    form = "rozebalamin-25mg"
    e = _unseen(catalog, packaging, form, 1.0)
    assert e.percent.low == 0.0
    assert "no light sensor and no worst-case lux at the location: light unbounded" in e.uncertainty


def test_a_location_worst_case_beats_the_packaging_assumption(catalog: Catalog) -> None:
    """A location's configured worst case bounds unseen light in the carton too, in its place."""
    e = _unseen(catalog, "in-carton", "rozebalamin-25mg", 8.0, worst=50_000.0)
    rate = catalog.light_rate(
        DRUG,
        catalog.form(DRUG, "rozebalamin-25mg"),
        catalog.lamp("unknown"),
        catalog.packaging_state("in-carton"),
    )
    assert rate is not None
    assert e.percent.low == pytest.approx(100.0 * math.exp(-rate.high * 50_000.0 * 8.0), rel=1e-9)
    assert not any("an assumption" in w for w in e.uncertainty)
