"""The alert lifecycle as a pure function of observations: excursion, breach, clear delay, escalation.

A rule's condition is "the value lies outside the rule's bounds" (an *excursion*). An excursion becomes a
*breach* when the rule's time rule is met:

- a **single-event** timer needs one continuous excursion of ``hold_seconds``; it resets whenever the value
  returns to range;
- a **cumulative** timer sums the time spent outside the range over the last ``window_seconds`` and is met
  when the sum reaches ``hold_seconds``; returning to range never resets it, only time sliding the window
  past old excursions does.

The states an alert passes through (each a change pollers see)::

    (none) --excursion--> pending --breach--> firing --ack--> acknowledged
       ^                     |                   |                 |
       |                     +--back in range----+-- clear delay --+--> resolved
       +---------------------- (withdrawn)       (condition false for ``clear_seconds``)

``pending`` is an excursion in progress whose time rule is not met yet; it ends as ``withdrawn`` (a
resolution with no breach) when the value returns to range first. A breached alert resolves only after the
condition has stayed false for the rule's ``clear_seconds`` (time hysteresis: a door that flaps does not
open and close alert after alert). A condition returning after resolution opens a new alert, a new episode
under the same fingerprint. Acknowledgement and escalation act on the stored alert and leave this state
alone. Sample-and-hold accounting: a value counts from its reading to the next, never further than
``max_step_seconds`` (a gap in the data is not time out of range).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from monitor.alerts.rule import Observation, Rule
from monitor.alerts.vocabulary import SEVERITIES, AlertState, Severity

TransitionKind = Literal["pending", "fire", "update", "withdraw", "resolve"]
Span = tuple[float, float]

SEVERITY_STEPS: tuple[Severity, ...] = SEVERITIES


@dataclass(frozen=True, slots=True)
class Transition:
    kind: TransitionKind
    ts: float
    value: float
    started_ts: float


@dataclass(frozen=True, slots=True)
class RuleState:
    """What a rule remembers about one subject between batches.

    ``open_worst`` and ``pending`` mirror the stored alert (the engine fills them from it); the rest is
    persisted as the rule's timer.
    """

    since: float | None = None  # start of the continuous excursion in progress
    open_worst: float | None = None  # the open breach's reported worst value; None while no breach
    pending: bool = False  # an excursion in progress is reported (a pending alert is open)
    clear_since: float | None = None  # a breach is open and its condition false since then
    last_ts: float | None = None  # the latest observation, and whether it lay outside the range
    last_out: bool = False
    out_spans: tuple[Span, ...] = ()  # cumulative timers: time outside the range within the window

    def timer_json(self) -> str:
        """The persisted part, as JSON."""
        return json.dumps(
            {
                "since": self.since,
                "clear_since": self.clear_since,
                "last_ts": self.last_ts,
                "last_out": self.last_out,
                "out_spans": [list(s) for s in self.out_spans],
            },
            separators=(",", ":"),
        )

    @staticmethod
    def from_timer_json(text: str | None, *, open_worst: float | None, pending: bool) -> RuleState:
        since, clear_since, last_ts, last_out, out_spans = _timer_fields(text)
        return RuleState(since, open_worst, pending, clear_since, last_ts, last_out, out_spans)


@functools.lru_cache(maxsize=1024)
def _timer_fields(
    text: str | None,
) -> tuple[float | None, float | None, float | None, bool, tuple[Span, ...]]:
    """The persisted fields of a timer. Memoised: most timers read back unchanged batch after batch."""
    raw = json.loads(text) if text else {}
    return (
        raw.get("since"),
        raw.get("clear_since"),
        raw.get("last_ts"),
        bool(raw.get("last_out", False)),
        tuple((float(a), float(b)) for a, b in raw.get("out_spans", ())),
    )


def out_of_range_seconds(spans: Sequence[Span], start: float, end: float) -> float:
    """Seconds of ``spans`` that fall within ``[start, end]``."""
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans)


def _account(rule: Rule, state: RuleState, ts: float, max_step_seconds: float) -> tuple[Span, ...]:
    """Add the time since the previous reading to the spans if that reading lay outside the range."""
    spans = state.out_spans
    if state.last_out and state.last_ts is not None and ts > state.last_ts:
        span = (state.last_ts, min(ts, state.last_ts + max_step_seconds))
        if spans and spans[-1][1] >= span[0]:
            spans = (*spans[:-1], (spans[-1][0], span[1]))
        else:
            spans = (*spans, span)
    horizon = ts - rule.window_seconds
    return tuple(s for s in spans if s[1] > horizon)


def evaluate(
    rule: Rule,
    observations: Sequence[Observation],
    state: RuleState,
    *,
    max_step_seconds: float = math.inf,
) -> tuple[list[Transition], RuleState]:
    """Run ``observations`` (in time order) through the rule; returns the transitions and the new state."""
    out: list[Transition] = []
    quiet_ts: float | None = None  # the latest in-range reading seen while nothing was in progress
    for obs in observations:
        last_ts = state.last_ts if quiet_ts is None else quiet_ts
        if last_ts is not None and obs.ts < last_ts:
            continue  # the ledger only grows forward; an old reading changes nothing
        excursion = rule.excess(obs.value) > 0
        if not excursion and _quiet(state):
            # Nothing in progress and the value in range: only the latest reading moves. This is almost
            # every reading of every rule, so the state is copied once at the end, not per reading.
            quiet_ts = obs.ts
            continue
        if quiet_ts is not None:
            state = replace(state, last_ts=quiet_ts, last_out=False)
            quiet_ts = None
        spans = _account(rule, state, obs.ts, max_step_seconds) if rule.timer == "cumulative" else ()
        since = (state.since if state.since is not None else obs.ts) if excursion else None
        if rule.timer == "cumulative":
            total = out_of_range_seconds(spans, obs.ts - rule.window_seconds, obs.ts)
            breach = total >= rule.hold_seconds and (rule.hold_seconds > 0 or excursion)
            started = spans[0][0] if spans else obs.ts
            holding = breach  # the condition a breach resolves on: the budget back under its limit
        else:
            breach = since is not None and obs.ts - since >= rule.hold_seconds
            started = since if since is not None else obs.ts
            holding = excursion  # a breach resolves on the value back in range for the clear delay
        state = replace(state, since=since, last_ts=obs.ts, last_out=excursion, out_spans=spans)
        state = _step(rule, state, obs, breach, holding, excursion, started, out)
    if quiet_ts is not None:
        state = replace(state, last_ts=quiet_ts, last_out=False)
    return out, state


def _quiet(state: RuleState) -> bool:
    """No excursion, breach, clear delay or counted time in progress: an in-range reading changes nothing."""
    return (
        state.open_worst is None
        and not state.pending
        and state.since is None
        and state.clear_since is None
        and not state.last_out
        and not state.out_spans
    )


def _step(
    rule: Rule,
    state: RuleState,
    obs: Observation,
    breach: bool,
    holding: bool,
    excursion: bool,
    started: float,
    out: list[Transition],
) -> RuleState:
    if state.open_worst is not None:  # a breach is open
        if holding:
            if excursion and rule.excess(obs.value) - rule.excess(state.open_worst) >= rule.update_step:
                out.append(Transition("update", obs.ts, obs.value, started))
                return replace(state, open_worst=obs.value, clear_since=None)
            return replace(state, clear_since=None)
        clear_since = state.clear_since if state.clear_since is not None else obs.ts
        if obs.ts - clear_since < rule.clear_seconds:
            return replace(state, clear_since=clear_since)
        out.append(Transition("resolve", obs.ts, obs.value, clear_since))
        state = replace(state, open_worst=None, clear_since=None, pending=False)
        # a new episode starts from here: fall through with no breach open
    if breach:
        out.append(Transition("fire", obs.ts, obs.value, started))
        return replace(state, open_worst=obs.value, pending=False, clear_since=None)
    if excursion and not state.pending:
        out.append(Transition("pending", obs.ts, obs.value, started))
        return replace(state, pending=True)
    if not excursion and state.pending:
        out.append(Transition("withdraw", obs.ts, obs.value, started))
        return replace(state, pending=False)
    return state


def escalated_severity(
    severity: Severity,
    state: AlertState,
    fired_ts: float | None,
    escalated_ts: float | None,
    now: float,
    escalate_after_seconds: float,
) -> Severity | None:
    """The severity one step up if a firing alert has gone unacknowledged too long, else None.

    An alert escalates once: a step up is a call for attention, not a count of how long it went unheard.
    """
    if state != "firing" or fired_ts is None or escalated_ts is not None:
        return None
    if now - fired_ts < escalate_after_seconds or severity == SEVERITY_STEPS[-1]:
        return None
    return SEVERITY_STEPS[SEVERITY_STEPS.index(severity) + 1]
