"""Alert rules as a table, and their evaluation as a pure function of observations.

A rule watches one metric of one kind of subject (a location's lux, a vial's potency, a sensor's silence)
and fires when the metric has been outside its bounds for ``hold_seconds``, continuously (a single-event
timer) or in total over ``window_seconds`` (a cumulative timer). The same condition continuing updates the
one open alert (only when it worsens by ``update_step``); it never opens a second. The lifecycle (pending,
firing, resolved after a clear delay) is :mod:`monitor.alerts.lifecycle`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from monitor.alerts.lifecycle import RuleState, Transition, evaluate
from monitor.alerts.rule import Observation, Rule

__all__ = [
    "Observation",
    "Rule",
    "RuleState",
    "RuleThresholds",
    "Transition",
    "alert_limits",
    "default_rules",
    "evaluate",
]


@dataclass(frozen=True, slots=True)
class RuleThresholds:
    """The configurable numbers of the default rules (see :class:`monitor.config.RulesConfig`)."""

    potency_warning_percent: float = 95.0
    potency_critical_percent: float = 90.0
    light_lux: float = 10.0
    light_hold_seconds: float = 60.0
    temperature_low_celsius: float = 2.0
    temperature_high_celsius: float = 8.0
    temperature_hold_seconds: float = 900.0  # below the low bound, single event
    stale_intervals: float = 3.0
    temperature_high_hold_seconds: float = 3600.0  # above the high bound, single event
    temperature_cumulative_seconds: float = 7200.0  # above the high bound, in total ...
    temperature_cumulative_window_seconds: float = 86_400.0  # ... within this sliding window
    clear_seconds: float = 120.0  # a breach resolves after its condition stays false this long
    escalate_after_seconds: float = 1800.0  # firing and unacknowledged this long: one severity step up


_VERDICT_FIELDS = ("potency_warning_percent", "potency_critical_percent")


def alert_limits(t: RuleThresholds) -> dict[str, float]:
    """The numbers of ``[rules]`` besides the verdict's thresholds: the light and temperature limits and
    the timings the dashboard, the reports and the alerts read (what the site sends central beside its
    thresholds, :mod:`monitor.store.config_mirror`)."""
    return {k: float(v) for k, v in asdict(t).items() if k not in _VERDICT_FIELDS}


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
            clear_seconds=t.clear_seconds,
            escalate_after_seconds=t.escalate_after_seconds,
            template="{subject}: light {value:.0f} lx above {high:g} lx for over {hold_minutes:g} min"
            " with vials present",
        ),
        Rule(
            "temperature-high",
            "location",
            "celsius",
            "critical",
            high=t.temperature_high_celsius,
            hold_seconds=t.temperature_high_hold_seconds,
            update_step=1.0,
            clear_seconds=t.clear_seconds,
            escalate_after_seconds=t.escalate_after_seconds,
            template="{subject}: temperature {value:.1f} °C above {high:g} °C for over {hold_minutes:g} min",
        ),
        Rule(
            "temperature-low",
            "location",
            "celsius",
            "critical",
            low=t.temperature_low_celsius,
            hold_seconds=t.temperature_hold_seconds,
            update_step=1.0,
            clear_seconds=t.clear_seconds,
            escalate_after_seconds=t.escalate_after_seconds,
            template="{subject}: temperature {value:.1f} °C below {low:g} °C for over {hold_minutes:g} min",
        ),
        Rule(
            "temperature-high-cumulative",
            "location",
            "celsius",
            "critical",
            high=t.temperature_high_celsius,
            hold_seconds=t.temperature_cumulative_seconds,
            timer="cumulative",
            window_seconds=t.temperature_cumulative_window_seconds,
            update_step=1.0,
            clear_seconds=t.clear_seconds,
            escalate_after_seconds=t.escalate_after_seconds,
            template="{subject}: temperature above {high:g} °C for {hold_minutes:g} min in total"
            " within the window (now {value:.1f} °C)",
        ),
        Rule(
            "sensor-stale",
            "sensor",
            "silent_intervals",
            "warning",
            high=t.stale_intervals,
            clear_seconds=t.clear_seconds,
            escalate_after_seconds=t.escalate_after_seconds,
            alert_class="sensor-trust",
            template="{subject}: no reading for {value:.0f} polling intervals",
        ),
        Rule(
            "calibration-overdue",
            "sensor",
            "calibration_overdue_days",
            "warning",
            high=0.0,
            alert_class="sensor-trust",
            template="{subject}: calibration was due {value:.0f} days ago",
        ),
        Rule(
            "sensor-fault",
            "sensor",
            "faulted",
            "warning",
            high=0.5,
            clear_seconds=t.clear_seconds,
            escalate_after_seconds=t.escalate_after_seconds,
            alert_class="sensor-trust",
            template="{subject}: sensor read failed",
        ),
    )
