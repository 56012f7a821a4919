"""Alert rules as a table, and their evaluation as a pure function of observations.

A rule watches one metric of one kind of subject (a location's lux, a vial's potency, a sensor's silence)
and fires when the metric has been outside its bounds for ``hold_seconds``. The same condition continuing
updates the one open alert (only when it worsens by ``update_step``); it never opens a second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from monitor.store.alerts import Severity

Subject = Literal["location", "vial", "sensor"]
Metric = Literal[
    "lux",
    "celsius",
    "potency_percent",
    "silent_intervals",
    "faulted",
    "calibration_overdue_days",
    "label_overrun_minutes",
]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    subject: Subject
    metric: Metric
    severity: Severity
    low: float = -math.inf  # the condition holds while the value is below ``low`` ...
    high: float = math.inf  # ... or above ``high``
    hold_seconds: float = 0.0
    update_step: float = math.inf
    template: str = ""
    only_where_vials: bool = False

    def excess(self, value: float) -> float:
        """How far outside the bounds ``value`` lies (positive) or how far inside (zero or negative)."""
        return max(self.low - value, value - self.high)

    def message(self, subject: str, value: float) -> str:
        return self.template.format(
            subject=subject, value=value, low=self.low, high=self.high, hold_minutes=self.hold_seconds / 60.0
        )


@dataclass(frozen=True, slots=True)
class Observation:
    ts: float
    value: float


@dataclass(frozen=True, slots=True)
class Transition:
    kind: Literal["fire", "update", "resolve"]
    ts: float
    value: float
    started_ts: float


@dataclass(frozen=True, slots=True)
class RuleState:
    """Since when the condition has held (None: it does not), and the open alert's reported worst value."""

    since: float | None = None
    open_worst: float | None = None


def evaluate(
    rule: Rule, observations: Sequence[Observation], state: RuleState
) -> tuple[list[Transition], RuleState]:
    """Run ``observations`` (in time order) through the rule; returns the transitions and the new state."""
    since, worst = state.since, state.open_worst
    out: list[Transition] = []
    for obs in observations:
        if rule.excess(obs.value) > 0:
            since = obs.ts if since is None else since
            if worst is None:
                if obs.ts - since >= rule.hold_seconds:
                    out.append(Transition("fire", obs.ts, obs.value, since))
                    worst = obs.value
            elif rule.excess(obs.value) - rule.excess(worst) >= rule.update_step:
                out.append(Transition("update", obs.ts, obs.value, since))
                worst = obs.value
        else:
            if worst is not None:
                out.append(Transition("resolve", obs.ts, obs.value, since if since is not None else obs.ts))
            since, worst = None, None
    return out, RuleState(since, worst)


@dataclass(frozen=True, slots=True)
class RuleThresholds:
    """The configurable numbers of the default rules (see :class:`monitor.config.RulesConfig`)."""

    potency_warning_percent: float = 95.0
    potency_critical_percent: float = 90.0
    light_lux: float = 10.0
    light_hold_seconds: float = 60.0
    temperature_low_celsius: float = 2.0
    temperature_high_celsius: float = 8.0
    temperature_hold_seconds: float = 900.0
    stale_intervals: float = 3.0


def default_rules(t: RuleThresholds) -> tuple[Rule, ...]:
    """The pharmacy defaults; adding a rule is adding a row."""
    return (
        Rule(
            "potency-warning",
            "vial",
            "potency_percent",
            "warning",
            low=t.potency_warning_percent,
            update_step=1.0,
            template="{subject}: estimated potency, low bound, {value:.1f} % is below {low:g} % of label",
        ),
        Rule(
            "potency-critical",
            "vial",
            "potency_percent",
            "critical",
            low=t.potency_critical_percent,
            update_step=1.0,
            template="{subject}: estimated potency, low bound, {value:.1f} % is below {low:g} % of label:"
            " do not use",
        ),
        Rule(
            # photokinetics.md §4/§7: Rozebalamin must be given within 60 min of dissolution, else discarded.
            "label-time-limit",
            "vial",
            "label_overrun_minutes",
            "critical",
            high=0.0,
            template="{subject}: reconstituted and past the label's time limit by {value:.0f} min: discard",
        ),
        Rule(
            "light-exposure",
            "location",
            "lux",
            "warning",
            high=t.light_lux,
            hold_seconds=t.light_hold_seconds,
            update_step=250.0,
            only_where_vials=True,
            template="{subject}: light {value:.0f} lx above {high:g} lx for over {hold_minutes:g} min"
            " with vials present",
        ),
        Rule(
            "temperature-range",
            "location",
            "celsius",
            "critical",
            low=t.temperature_low_celsius,
            high=t.temperature_high_celsius,
            hold_seconds=t.temperature_hold_seconds,
            update_step=1.0,
            template="{subject}: temperature {value:.1f} °C outside {low:g}-{high:g} °C"
            " for over {hold_minutes:g} min",
        ),
        Rule(
            "sensor-stale",
            "sensor",
            "silent_intervals",
            "warning",
            high=t.stale_intervals,
            template="{subject}: no reading for {value:.0f} polling intervals",
        ),
        Rule(
            "calibration-overdue",
            "sensor",
            "calibration_overdue_days",
            "warning",
            high=0.0,
            template="{subject}: calibration was due {value:.0f} days ago",
        ),
        Rule(
            "sensor-fault", "sensor", "faulted", "warning", high=0.5, template="{subject}: sensor read failed"
        ),
    )
