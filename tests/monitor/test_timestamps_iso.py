"""``iso_utc`` is byte for byte the formatting it replaced, for every float: the API's times never move."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from monitor.timestamps import EARLIEST_TS, LATEST_TS, iso_utc

FIRST_DATE_TS = -62_135_596_800.0
"""0001-01-01T00:00:00Z, the first instant ``datetime`` holds."""
AFTER_LAST_DATE_TS = 253_402_300_800.0
"""10000-01-01T00:00:00Z, the first instant past the last one ``datetime`` holds."""


def reference(ts: float) -> str | None:
    """The formatting the API used before: ``fromtimestamp`` in UTC, ``Z`` for ``+00:00``."""
    try:
        return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def _around(x: float, steps: int = 3) -> list[float]:
    """``x`` and its nearest floats on either side."""
    out, lo, hi = [x], x, x
    for _ in range(steps):
        lo, hi = math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)
        out += [lo, hi]
    return out


EDGES = [
    *_around(0.0),
    -0.0,
    5e-324,
    -5e-324,
    *_around(EARLIEST_TS + 1e-6),
    *_around(LATEST_TS),
    *_around(FIRST_DATE_TS),
    *_around(FIRST_DATE_TS - 0.5e-6),
    *_around(FIRST_DATE_TS - 1e-6),
    *_around(AFTER_LAST_DATE_TS),
    *_around(AFTER_LAST_DATE_TS - 1e-6),
    *_around(AFTER_LAST_DATE_TS - 0.5e-6),
    *_around(AFTER_LAST_DATE_TS - 2e-5),
    0.0078125,  # 7812.5 us: a tie, rounded to even (7812)
    0.0234375,  # 23437.5 us: a tie, rounded to even (23438)
    -0.0078125,
    -0.0234375,
    1_767_225_600.0078125,
    0.9999995,
    0.9999994999,
    -0.9999995,
    1e-7,
    -1e-7,
    4e-7,
    6e-7,
    1e18,
    -1e18,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    math.inf,
    -math.inf,
    math.nan,
]


@pytest.mark.parametrize("ts", EDGES, ids=repr)
def test_edges_format_as_before(ts: float) -> None:
    """The window's and the calendar's ends, their neighbours, ties at half a microsecond, non-numbers."""
    assert iso_utc(ts) == reference(ts)


@settings(max_examples=2_000, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_formats_as_before(ts: float) -> None:
    """Any float whatever, huge and negative included."""
    assert iso_utc(ts) == reference(ts)


@settings(max_examples=2_000, deadline=None)
@given(st.floats(min_value=FIRST_DATE_TS - 10, max_value=AFTER_LAST_DATE_TS + 10))
def test_every_date_formats_as_before(ts: float) -> None:
    """Across the whole calendar ``datetime`` holds, and a little past both of its ends."""
    assert iso_utc(ts) == reference(ts)


@settings(max_examples=2_000, deadline=None)
@given(st.floats(min_value=EARLIEST_TS, max_value=LATEST_TS))
def test_the_window_formats_as_before(ts: float) -> None:
    """Every time vialguard accepts."""
    assert iso_utc(ts) == reference(ts)


@settings(max_examples=2_000, deadline=None)
@given(st.integers(min_value=-(10**10), max_value=10**10), st.integers(min_value=0, max_value=2**20))
def test_microsecond_rounding_matches(seconds: int, steps: int) -> None:
    """Fractions of a second in steps of 2**-20 s: exact ties at half a microsecond among them."""
    ts = seconds + steps / 2**20
    assert iso_utc(ts) == reference(ts)


@given(st.integers(min_value=-(10**6), max_value=10**6))
@example(0)
def test_tie_of_every_odd_step_rounds_alike(k: int) -> None:
    """``k/128`` s is ``k * 7812.5`` us: every odd ``k`` a tie, rounded half to even by both."""
    ts = 1_767_225_600 + k / 128
    assert iso_utc(ts) == reference(ts)
