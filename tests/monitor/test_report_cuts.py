"""The reports' pure cuts, shared by the site and central: a period into local days, a vial's life into
stays between its events."""

from __future__ import annotations

from itertools import pairwise
from typing import get_args

from hypothesis import given
from hypothesis import strategies as st

from monitor.reporting import day_spans, stays_of
from monitor.store.history import SECONDS_PER_DAY
from monitor.store.vials import EventKind, VialEvent

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z

periods = st.tuples(
    st.floats(T0 - 30 * SECONDS_PER_DAY, T0 + 30 * SECONDS_PER_DAY),
    st.floats(1.0, 40 * SECONDS_PER_DAY),
    st.integers(-14 * 60, 14 * 60),
)


@given(periods)
def test_days_cover_the_period_once_each_within_its_local_day(period: tuple[float, float, int]) -> None:
    """The days follow each other without gap or overlap from the period's start to its end, each
    inside its own local day at the offset."""
    start, length, offset_minutes = period
    end, offset = start + length, offset_minutes * 60.0
    spans = day_spans(start, end, offset)
    assert spans[0].start == start
    assert spans[-1].end == end
    for a, b in pairwise(spans):
        assert a.end == b.start
        assert b.day == a.day + 1
    for d in spans:
        assert d.start <= d.end
        assert d.day * SECONDS_PER_DAY <= d.start + offset
        assert d.end + offset <= (d.day + 1) * SECONDS_PER_DAY


def _event(i: int, ts: float, kind: EventKind, location: int | None, packaging: str | None) -> VialEvent:
    return VialEvent(i, 1, ts, kind, location, packaging, "", ts)


events = st.lists(
    st.tuples(
        st.floats(0.0, 1_000.0),
        st.sampled_from(get_args(EventKind)),
        st.one_of(st.none(), st.integers(1, 3)),
        st.one_of(st.none(), st.sampled_from(["in-carton", "bare"])),
    ),
    max_size=12,
).map(
    lambda found: [
        _event(i, T0 + dt, kind, loc, pack)
        for i, (dt, kind, loc, pack) in enumerate(sorted(found, key=lambda x: x[0]))
    ]
)


@given(events, st.floats(0.0, 1_200.0))
def test_stays_are_ordered_disjoint_and_end_with_the_vials_time_here(
    found: list[VialEvent], dt: float
) -> None:
    """Stays follow each other in time without overlap, within the registration and ``as_of``; each
    starts at an event that puts the vial here (not a hand-over away) and none outlasts its
    administration or discarding."""
    as_of = T0 + dt
    stays = stays_of(found, as_of)
    for s in stays:
        assert found[0].ts <= s.start < s.end <= as_of
        assert any(e.ts == s.start and e.kind != "handed-over" for e in found)
    for a, b in pairwise(stays):
        assert a.end <= b.start
    ended = next((e.ts for e in found if e.kind in ("administered", "discarded")), None)
    if ended is not None:
        assert all(s.end <= ended for s in stays)
