"""System alerts as a table of checks over one snapshot of the machine's state, pure.

Data alerts come from readings and sensor-trust alerts from the sensors; these come from the system that
keeps them. The bridge raises those it can see itself, with its commits: the clock not synchronised
(:mod:`monitor.timekeeping`), the disk nearly full and a damaged database (:mod:`monitor.storage_health`),
an unclean shutdown (:mod:`monitor.outages`). What it cannot report is its own absence, so the API process
runs these checks (``api/system_watch.py``): the bridge has stopped writing (nothing new is measured).

A check whose value only grows with time (an age) also says how long a passing value stays passing, so
the watch need not look again before then (:func:`next_pass_seconds`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from monitor.store.alerts import Severity


@dataclass(frozen=True, slots=True)
class SystemStatus:
    """What was seen, once. None: unknown (no heartbeat yet), never a breach."""

    heartbeat_age_seconds: float | None


@dataclass(frozen=True, slots=True)
class SystemLimits:
    bridge_down_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class SystemCheck:
    name: str
    severity: Severity
    # The value the check reads from the status, and whether it is a breach under the limits.
    value: Callable[[SystemStatus], float | None]
    breached: Callable[[float, SystemLimits], bool]
    template: str
    # For a value that grows at most one second a second: the seconds a passing value takes to breach.
    # None: the value may change any time, so only the watch's interval bounds when a breach is seen.
    passes_for: Callable[[float, SystemLimits], float] | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    check: SystemCheck
    breached: bool
    value: float
    message: str


SYSTEM_CHECKS: tuple[SystemCheck, ...] = (
    SystemCheck(
        "bridge-down",
        "critical",
        lambda s: s.heartbeat_age_seconds,
        lambda v, lim: v > lim.bridge_down_seconds,
        "the bridge has written nothing for {value:.0f} s: no readings are being stored",
        # A new heartbeat only makes the age smaller.
        lambda v, lim: lim.bridge_down_seconds - v,
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


def next_pass_seconds(findings: list[Finding], limits: SystemLimits, interval_seconds: float) -> float:
    """How long the watch may wait after a pass that saw ``findings``: ``interval_seconds``, or longer when
    every check was known, passed, and cannot breach sooner.

    A breach is then seen no later than with a pass every ``interval_seconds``: either the wait is the
    interval, or it ends when the first check could breach. What a pass resolves (a breach that passed)
    is looked at every interval, and so is a check whose value is unknown (no heartbeat yet)."""
    if len(findings) < len(SYSTEM_CHECKS) or any(f.breached for f in findings):
        return interval_seconds
    quiet = [
        f.check.passes_for(f.value, limits) if f.check.passes_for is not None else interval_seconds
        for f in findings
    ]
    return max(interval_seconds, min(quiet, default=interval_seconds))
