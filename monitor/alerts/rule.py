"""One alert rule, the row type of the rules' table (:mod:`monitor.alerts.rules`), and what it observes.

Apart from the table and from the lifecycle (:mod:`monitor.alerts.lifecycle`) that both use it, so neither
imports the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal

from monitor.alerts.vocabulary import AlertClass, Severity

Subject = Literal["location", "vial", "sensor"]
Timer = Literal["single", "cumulative"]
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
    # The time rule and the lifecycle (see monitor.alerts.lifecycle): a single-event or cumulative timer
    # over a window, the time the condition must stay false before a breach resolves, and the time a
    # firing alert may go unacknowledged before it escalates one severity step.
    timer: Timer = "single"
    window_seconds: float = math.inf
    clear_seconds: float = 0.0
    escalate_after_seconds: float = math.inf
    alert_class: AlertClass = "data"

    def parameters(self) -> dict[str, object]:
        """The rule as it stands, for the snapshot every alert keeps (infinities as null)."""
        out: dict[str, object] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = None if isinstance(v, float) and math.isinf(v) else v
        return out

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
