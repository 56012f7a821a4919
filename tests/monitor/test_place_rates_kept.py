"""The catalogue's joint rates are integrated once per process and combination, not at every evaluation."""

from __future__ import annotations

from dataclasses import replace

from monitor.model import place_rates
from monitor.model.profiles import Catalog

PLACE = ("mecobalamin", "rozebalamin-25mg", "fluorescent-cool-white", "amber-glass")


def test_one_catalogue_keeps_one_set_of_rates(catalog: Catalog) -> None:
    """Two evaluations with the same catalogue share its rates, equal to those integrated afresh."""
    kept = place_rates.joint_rates(catalog)
    assert place_rates.joint_rates(catalog) is kept
    rate = kept.get(*PLACE)
    assert rate is not None  # a combination the catalogue integrates, so the test compares numbers
    assert rate == place_rates.JointRates(catalog).get(*PLACE)


def test_another_catalogue_gets_rates_of_its_own(catalog: Catalog) -> None:
    """A different catalogue (a reload, a test's own) never reads the rates kept for another."""
    kept = place_rates.joint_rates(catalog)
    other = replace(catalog)
    assert place_rates.joint_rates(other) is not kept
    assert place_rates.joint_rates(other).get(*PLACE) == place_rates.JointRates(other).get(*PLACE)
