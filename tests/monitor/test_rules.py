"""Rule evaluation: hold times, one alert per continuing condition, updates on worsening, resolution."""

from __future__ import annotations

from monitor.alerts.rules import Observation, Rule, RuleState, RuleThresholds, default_rules, evaluate

LIGHT = next(r for r in default_rules(RuleThresholds()) if r.name == "light-exposure")


def obs(*pairs: tuple[float, float]) -> list[Observation]:
    return [Observation(t, v) for t, v in pairs]


def test_condition_shorter_than_hold_is_pending_only() -> None:
    """Light above 10 lx for 59 s (hold 60 s) is an excursion in progress: pending, not fired."""
    transitions, state = evaluate(LIGHT, obs((0, 500), (30, 500), (59, 500)), RuleState())
    assert [(t.kind, t.ts) for t in transitions] == [("pending", 0)]
    assert (state.since, state.open_worst, state.pending) == (0, None, True)


def test_condition_held_fires_once_with_its_start() -> None:
    """At 60 s of light the alert fires once, started when the light came on."""
    transitions, state = evaluate(LIGHT, obs((0, 500), (60, 500), (61, 520)), RuleState())
    assert [(t.kind, t.ts, t.started_ts) for t in transitions] == [("pending", 0, 0), ("fire", 60, 0)]
    assert state.open_worst == 500


def test_hold_spans_batches_through_state() -> None:
    """A condition that began in an earlier batch counts toward the hold time."""
    _, state = evaluate(LIGHT, obs((0, 500)), RuleState())
    transitions, _ = evaluate(LIGHT, obs((60, 500)), state)
    assert [t.kind for t in transitions] == ["fire"]  # pending was reported in the first batch


def test_continuing_condition_updates_only_on_material_worsening() -> None:
    """An open alert updates when the value worsens by the rule's step, never duplicates."""
    transitions, state = evaluate(LIGHT, obs((70, 600), (71, 700), (72, 900)), RuleState(0, 500))
    assert [(t.kind, t.value) for t in transitions] == [("update", 900)]
    assert state.open_worst == 900


def test_condition_clearing_resolves_after_clear_delay_and_resets() -> None:
    """Darkness resolves the open alert only once it has lasted the clear delay, and forgets the start."""
    assert LIGHT.clear_seconds == 120.0
    transitions, state = evaluate(LIGHT, obs((80, 0.0), (199, 0.0)), RuleState(0, 500))
    assert transitions == []
    transitions, state = evaluate(LIGHT, obs((200, 0.0)), state)
    assert [(t.kind, t.started_ts) for t in transitions] == [("resolve", 80)]
    assert (state.since, state.open_worst, state.pending, state.clear_since) == (None, None, False, None)


def test_range_rule_fires_below_low_bound() -> None:
    """The 2-8 °C rule treats cold as a violation too."""
    rule = Rule("t", "location", "celsius", "critical", low=2.0, high=8.0, hold_seconds=900)
    transitions, _ = evaluate(rule, obs((0, 1.0), (900, 1.5)), RuleState())
    assert [t.kind for t in transitions] == ["pending", "fire"]
