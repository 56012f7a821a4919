"""System alerts as a table of checks over one snapshot of the machine's state, pure.

Data alerts come from readings and sensor-trust alerts from the sensors; these come from the system that
keeps them: the bridge has stopped writing (nothing new is being measured), the disk holding the database
is nearly full (soon nothing can be stored), the clock is not synchronised (every timestamp is in doubt).
The bridge cannot report its own absence, so the API process runs these checks (``api/system_watch.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from monitor.store.alerts import Severity


@dataclass(frozen=True, slots=True)
class SystemStatus:
    """What was seen, once. None: unknown (no heartbeat yet, clock state unreadable), never a breach."""

    heartbeat_age_seconds: float | None
    storage_free_percent: float | None
    clock_synchronised: bool | None


@dataclass(frozen=True, slots=True)
class SystemLimits:
    bridge_down_seconds: float = 60.0
    storage_free_percent_min: float = 10.0


@dataclass(frozen=True, slots=True)
class SystemCheck:
    name: str
    severity: Severity
    # The value the check reads from the status, and whether it is a breach under the limits.
    value: Callable[[SystemStatus], float | None]
    breached: Callable[[float, SystemLimits], bool]
    template: str


@dataclass(frozen=True, slots=True)
class Finding:
    check: SystemCheck
    breached: bool
    value: float
    message: str


def _clock(s: SystemStatus) -> float | None:
    return None if s.clock_synchronised is None else (0.0 if s.clock_synchronised else 1.0)


SYSTEM_CHECKS: tuple[SystemCheck, ...] = (
    SystemCheck(
        "bridge-down",
        "critical",
        lambda s: s.heartbeat_age_seconds,
        lambda v, lim: v > lim.bridge_down_seconds,
        "the bridge has written nothing for {value:.0f} s: no readings are being stored",
    ),
    SystemCheck(
        "storage-nearly-full",
        "warning",
        lambda s: s.storage_free_percent,
        lambda v, lim: v < lim.storage_free_percent_min,
        "{value:.1f} % of the database's disk is free",
    ),
    SystemCheck(
        "clock-unsynced",
        "warning",
        _clock,
        lambda v, lim: v > 0.5,
        "the system clock is not synchronised (NTP): reading times may be wrong",
    ),
)


def evaluate(status: SystemStatus, limits: SystemLimits) -> list[Finding]:
    """One finding per check whose value is known."""
    out = []
    for check in SYSTEM_CHECKS:
        value = check.value(status)
        if value is None or math.isnan(value):
            continue
        out.append(Finding(check, check.breached(value, limits), value, check.template.format(value=value)))
    return out
