"""The observations table: every metric a rule can name has its row."""

from __future__ import annotations

from typing import get_args

from monitor.alerts.rule import Metric
from monitor.alerts.rules import RuleThresholds, default_rules
from monitor.engine.observations import OBSERVERS


def test_every_metric_has_an_observe_function() -> None:
    """A metric without a row would fail at the first batch; the table names each metric once."""
    assert set(OBSERVERS) == set(get_args(Metric))


def test_every_default_rule_is_observed() -> None:
    """The pharmacy defaults all observe a metric of the table."""
    assert {r.metric for r in default_rules(RuleThresholds())} <= set(OBSERVERS)
