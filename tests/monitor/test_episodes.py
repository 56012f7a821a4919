"""Episodes out of bounds: the pure functions."""

from __future__ import annotations

import pytest

from monitor.episodes import Episode, episodes, join_seconds_for


def test_consecutive_readings_form_one_episode_lasting_one_interval_more() -> None:
    """Readings 1 s apart are one episode; it lasts from the first to the last plus one interval."""
    run = [(100.0 + i, 500.0 + i) for i in range(30)]
    assert episodes(run, join_seconds=1.5, interval_seconds=1.0, direction="above") == [
        Episode(100.0, 130.0, 529.0, 30)
    ]


def test_one_reading_back_inside_splits_the_run() -> None:
    """A missing second (a reading back inside the bound) between two readings splits them."""
    run = [(0.0, 20.0), (1.0, 30.0), (3.0, 40.0)]
    got = episodes(run, join_seconds=1.5, interval_seconds=1.0, direction="above")
    assert [(e.start, e.end, e.peak) for e in got] == [(0.0, 2.0, 30.0), (3.0, 4.0, 40.0)]


def test_below_a_bound_the_peak_is_the_lowest() -> None:
    """For a cold excursion the reported extreme is the minimum."""
    run = [(0.0, 1.5), (10.0, 0.5), (20.0, 1.0)]
    (only,) = episodes(run, join_seconds=15.0, interval_seconds=10.0, direction="below")
    assert (only.peak, only.seconds) == (0.5, 30.0)


def test_aggregated_minutes_count_as_outside_throughout_and_join_the_readings_around_them() -> None:
    """Two minutes aggregated past retention, both lit, then raw readings on: one episode through all of
    them; a minute apart from them is an episode of its own, a whole minute long."""
    spans = [(0.0, 59.0, 400.0, 60), (60.0, 119.0, 650.0, 60), (300.0, 359.0, 350.0, 60)]
    raw = [(120.0 + i, 500.0) for i in range(5)]
    got = episodes(raw, join_seconds=1.5, interval_seconds=1.0, direction="above", spans=spans)
    assert got == [Episode(0.0, 125.0, 650.0, 125), Episode(300.0, 360.0, 350.0, 60)]


def test_no_readings_no_episode_and_bad_arguments_are_refused() -> None:
    """Nothing out of bounds gives no episode; a non-positive interval is an error naming it."""
    assert episodes([], join_seconds=1.5, interval_seconds=1.0, direction="above") == []
    with pytest.raises(ValueError, match="interval_seconds"):
        episodes([(0.0, 1.0)], join_seconds=1.5, interval_seconds=0.0, direction="above")


def test_join_is_just_over_an_interval_but_never_past_the_gap_threshold() -> None:
    """The join window is 1.5 intervals, capped at the sensor's gap threshold."""
    assert join_seconds_for(1.0, 5.0) == 1.5
    assert join_seconds_for(10.0, 12.0) == 12.0
