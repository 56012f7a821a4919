"""The wall clock as the bridge saw it: steps recorded as events, a system alert while unsynchronised.

Readings are stamped from the monotonic clock plus an offset to wall time, so a step of the wall clock (NTP
correcting a Pi that booted with a stale time) never stretches or shrinks an interval: the bridge sees the
offset change, records a ``clock-jump`` event, and stamps later readings with the new offset. While the
kernel says the clock is not synchronised, a ``clock-unsynchronised`` system alert holds; it resolves when
synchronisation is confirmed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from monitor.store import runs, system_alerts
from monitor.timestamps import format_utc

CLOCK_JUMP_EVENT = "clock-jump"
UNSYNCHRONISED_RULE = "clock-unsynchronised"
_FINGERPRINT = f"{UNSYNCHRONISED_RULE}:system:0"


@dataclass(frozen=True, slots=True)
class ClockJump:
    ts: float  # wall time just after the step (on the new clock)
    seconds: float  # positive: the clock went forward
    restamped: int  # readings held since before the step, re-stamped by it


@dataclass
class ClockReport:
    """What the bridge saw of the wall clock since its last commit."""

    synchronised: bool
    jumps: list[ClockJump] = field(default_factory=list)


def _iso(ts: float) -> str:
    return format_utc(ts)


def jump_detail(jump: ClockJump) -> str:
    direction = "forward" if jump.seconds > 0 else "backward"
    return (
        f"the wall clock stepped {direction} by {abs(jump.seconds):.3f} s at {_iso(jump.ts)};"
        f" {jump.restamped} reading(s) taken before it were re-stamped"
    )


def apply(conn: sqlite3.Connection, report: ClockReport, now: float) -> int:
    """Record the jumps and open or resolve the unsynchronised alert; returns the alert changes made."""
    for jump in report.jumps:
        runs.record_event(conn, jump.ts, CLOCK_JUMP_EVENT, jump_detail(jump))
    message = (
        "clock unsynchronised: the system clock has not been confirmed by a time server;"
        " readings are held (and spooled) to be re-stamped once it is"
    )
    alert = system_alerts.system_alert(_FINGERPRINT, UNSYNCHRONISED_RULE, "warning", 1.0, message, now)
    return system_alerts.hold(conn, not report.synchronised, alert, "clock synchronised", now)
