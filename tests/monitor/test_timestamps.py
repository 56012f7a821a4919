"""Times: the accepted window, and formatters that return a string for any float whatever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.errors import InvalidRequest
from monitor.timestamps import EARLIEST_TS, LATEST_TS, check_ts, format_utc, iso_utc, window_problem

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)


@given(ANY_FLOAT)
def test_every_formatter_is_total(ts: float) -> None:
    """Any float: a string (or None for JSON), never an exception."""
    assert isinstance(format_utc(ts), str)
    assert iso_utc(ts) is None or isinstance(iso_utc(ts), str)


@given(ANY_FLOAT)
def test_check_ts_accepts_the_window_and_names_the_field_outside_it(ts: float) -> None:
    """Inside 1970-2200 UTC the time itself; outside, InvalidRequest naming the field."""
    if EARLIEST_TS <= ts <= LATEST_TS:
        assert check_ts("at", ts) == ts
    else:
        with pytest.raises(InvalidRequest, match=r"^at: "):
            check_ts("at", ts)


@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=-23 * 60, max_value=23 * 60))
def test_any_date_python_reads_is_judged_without_error(naive: datetime, offset_minutes: int) -> None:
    """Every date from year 1 to 9999 at every offset: judged in or out of the window, never a crash."""
    dt = naive.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    problem = window_problem(dt)
    assert (problem is None) == (EARLIEST_TS <= dt.timestamp() <= LATEST_TS)
    if problem is None:
        assert iso_utc(dt.timestamp()) is not None
