"""The one verdict on a vial: use, watch or do not use from the low bound, the time left and its words."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.model.verdict import Evidence, Thresholds, decide, duration_text

T = Thresholds(warning_percent=95.0, critical_percent=90.0)
NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("low", "expected"),
    [(100.0, "use"), (95.0, "use"), (94.99, "watch"), (90.0, "watch"), (89.99, "do-not-use")],
    ids=["full", "at-warning", "below-warning", "at-critical", "below-critical"],
)
def test_verdict_reads_the_low_bound_as_the_alerts(low: float, expected: str) -> None:
    """Strictly below the warning is watch, strictly below the critical is do not use, as the rules fire."""
    v = decide(Evidence(low, 10.0, None), T, NOW)
    assert v.verdict == expected
    assert v.basis == "low bound"
    assert v.basis_percent == low


def test_reconstituted_vial_counts_down_to_the_label_deadline() -> None:
    """A model time of years and a label limit 58 minutes away: the label sets the time left."""
    v = decide(Evidence(99.9, 7e5, NOW + 58 * 60.0), T, NOW)
    assert (v.verdict, v.limited_by) == ("use", "label")
    assert v.hours_left == pytest.approx(58 / 60)
    assert v.time_left_text() == "58 min (label limit after reconstitution)"


def test_past_the_label_deadline_is_do_not_use_whatever_the_potency() -> None:
    """One minute past the label's limit: do not use, reached, limited by the label, and says discard."""
    v = decide(Evidence(99.9, 7e5, NOW - 60.0), T, NOW)
    assert (v.verdict, v.hours_left, v.limited_by) == ("do-not-use", 0.0, "label")
    assert v.time_left_text() == "reached: label limit passed"
    assert "discard" in v.reason


def test_nothing_degrading_is_not_reached_and_never_infinite() -> None:
    """No loss at present conditions: no hours, and words instead of infinity."""
    v = decide(Evidence(99.0, math.inf, None), T, NOW)
    assert v.hours_left is None
    assert v.time_left_text() == "not reached at present conditions"


def test_vial_out_of_stock_has_no_time_left() -> None:
    """Administered keeps its potency verdict as of then; discarded is do not use; neither has time left."""
    given_ = decide(Evidence(97.0, math.inf, None, ended="administered"), T, NOW)
    assert (given_.verdict, given_.hours_left, given_.in_stock) == ("use", None, False)
    thrown = decide(Evidence(99.0, math.inf, None, ended="discarded"), T, NOW)
    assert thrown.verdict == "do-not-use"
    assert thrown.time_left_text() == "none: no longer in stock"


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (0.0, "0 s"),
        (0.5 / 60, "30 s"),
        (0.97, "58 min"),
        (5.2, "5 h 12 min"),
        (76.0, "3 d 4 h"),
        (48.0, "2 d"),
    ],
)
def test_durations_read_as_a_person_says_them(hours: float, text: str) -> None:
    """Seconds under a minute, minutes under an hour, hours and minutes under two days, then days."""
    assert duration_text(hours) == text


@given(
    low=st.floats(0.0, 150.0),
    model=st.one_of(st.just(math.inf), st.floats(0.0, 1e9)),
    deadline=st.one_of(st.none(), st.floats(-1e6, 1e6)),
)
def test_every_verdict_has_true_words(low: float, model: float, deadline: float | None) -> None:
    """Any evidence: do not use reads "reached"; nothing says inf or nan; no "more than a year" but for use
    or watch; the time left is never negative and never beyond the label's deadline."""
    v = decide(Evidence(low, model, None if deadline is None else NOW + deadline), T, NOW)
    text = v.time_left_text()
    assert "inf" not in text
    assert "nan" not in text
    if v.verdict == "do-not-use":
        assert text.startswith("reached")
        assert v.hours_left == 0.0
    if "more than a year" in text:
        assert v.verdict in ("use", "watch")
    if v.hours_left is not None:
        assert v.hours_left >= 0.0
        if deadline is not None:
            assert v.hours_left <= max(deadline, 0.0) / 3600.0 + 1e-9
