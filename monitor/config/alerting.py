"""What raises an alert and how long a resolved one is kept: the rules' numbers and the system checks."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from monitor.alerts.rules import RuleThresholds
from monitor.config.fields import Interval, StrictModel
from monitor.plausibility import QUANTITY_RANGES


class RulesConfig(StrictModel):
    potency_warning_percent: Annotated[float, Field(gt=0, le=100)] = 95.0
    potency_critical_percent: Annotated[float, Field(gt=0, le=100)] = 90.0
    light_lux: Annotated[float, Field(ge=0)] = 10.0
    light_hold_seconds: Annotated[float, Field(ge=0)] = 60.0
    temperature_low_celsius: float = 2.0
    temperature_high_celsius: float = 8.0
    temperature_hold_seconds: Annotated[float, Field(ge=0)] = 900.0
    stale_intervals: Annotated[float, Field(gt=0)] = 3.0
    temperature_high_hold_seconds: Annotated[float, Field(ge=0)] = 3600.0
    temperature_cumulative_seconds: Annotated[float, Field(gt=0)] = 7200.0
    temperature_cumulative_window_seconds: Annotated[float, Field(gt=0)] = 86_400.0
    clear_seconds: Annotated[float, Field(ge=0)] = 120.0
    escalate_after_seconds: Annotated[float, Field(gt=0)] = 1800.0

    @model_validator(mode="after")
    def _limits_in_order(self) -> Self:
        if not self.temperature_low_celsius < self.temperature_high_celsius:
            raise ValueError(
                f"temperature_low_celsius {self.temperature_low_celsius:g} must be below"
                f" temperature_high_celsius {self.temperature_high_celsius:g}"
            )
        if not self.potency_warning_percent > self.potency_critical_percent:
            raise ValueError(
                f"potency_warning_percent {self.potency_warning_percent:g} must be above"
                f" potency_critical_percent {self.potency_critical_percent:g}: the warning comes first"
            )
        if self.temperature_cumulative_seconds >= self.temperature_cumulative_window_seconds:
            raise ValueError(
                f"temperature_cumulative_seconds {self.temperature_cumulative_seconds:g} must be shorter than"
                f" temperature_cumulative_window_seconds {self.temperature_cumulative_window_seconds:g}:"
                " no window could hold that much time out of range, and the alert would never fire"
            )
        probe = QUANTITY_RANGES["temperature"]
        for name in ("temperature_low_celsius", "temperature_high_celsius"):
            value = getattr(self, name)
            if not probe.holds(value):
                raise ValueError(
                    f"{name} {value:g} is outside what any probe can report ({probe.low:g} to"
                    f" {probe.high:g} °C): the alert could never fire"
                )
        return self

    def thresholds(self) -> RuleThresholds:
        return RuleThresholds(**self.model_dump())


class AlertsConfig(StrictModel):
    retention_days: Annotated[float, Field(gt=0)] = 90.0  # resolved alerts are purged after this long
    # System alerts (api/system_watch.py): how often the API checks (a fresh heartbeat is looked at again
    # only when it could turn stale: a breach is seen within this either way), and when the bridge is down.
    system_check_seconds: Interval = 15.0
    bridge_down_seconds: Interval = 60.0
