"""The window of times vialguard accepts, and total formatting of any stored time.

A time enters through the API or a command as an ISO 8601 string with a zone. Python reads any date from
year 1 to 9999 with any offset, but ``datetime.fromtimestamp`` cannot turn every such instant back into a
date (year 9999 at UTC−05:00 is in year 10000 UTC), so a stored edge-of-calendar time failed every later
read that formatted it. Times are therefore refused outside a window that no monitored vial can leave
(1970-01-01 to 2200-01-01 UTC), naming the field; and every formatter here returns a string for any
float, so a value stored before the window existed still reads.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

from monitor.errors import InvalidRequest

EARLIEST_TS = 0.0
"""1970-01-01T00:00:00Z, the Unix epoch: no vialguard record can be older."""
LATEST_TS = 7_258_118_400.0
"""2200-01-01T00:00:00Z: past any vial's shelf life, far inside what every formatter can show."""
WINDOW_TEXT = "between 1970-01-01T00:00:00Z and 2200-01-01T00:00:00Z"


def in_window(ts: float) -> bool:
    return math.isfinite(ts) and EARLIEST_TS <= ts <= LATEST_TS


def window_problem(dt: datetime) -> str | None:
    """Why ``dt`` (aware) is refused, or None when it lies in the window."""
    try:
        ts = dt.timestamp()
    except (OverflowError, ValueError):  # pragma: no cover - aware datetimes always convert
        return f"must be {WINDOW_TEXT}"
    return None if in_window(ts) else f"{dt.isoformat()} is outside the accepted times: must be {WINDOW_TEXT}"


def check_ts(name: str, ts: float) -> float:
    """``ts`` itself, or :class:`InvalidRequest` naming ``name`` when it is not a time vialguard accepts."""
    if not in_window(ts):
        raise InvalidRequest(f"{name}: {format_utc(ts)} is outside the accepted times: must be {WINDOW_TEXT}")
    return ts


def to_datetime(ts: float, utc_offset_seconds: float = 0.0) -> datetime | None:
    """The date of ``ts`` at that offset, or None when no ``datetime`` can hold it."""
    try:
        tz = UTC if utc_offset_seconds == 0 else timezone(timedelta(seconds=utc_offset_seconds))
        return datetime.fromtimestamp(ts, tz=tz)
    except (OverflowError, OSError, ValueError):
        return None


def format_utc(ts: float, pattern: str = "%Y-%m-%dT%H:%M:%SZ") -> str:
    """``ts`` in UTC by ``pattern``, or a plain statement of the number when it is no date at all."""
    dt = to_datetime(ts)
    return f"(not a date: {ts!r} s)" if dt is None else dt.strftime(pattern)


_EPOCH_UTC_WALL = datetime(1970, 1, 1, tzinfo=UTC).replace(tzinfo=None)
"""The epoch as a UTC wall time, without a zone: what :func:`iso_utc` adds an offset to."""


def iso_utc(ts: float) -> str | None:
    """ISO 8601 in UTC with a ``Z`` and the stored precision; None when ``ts`` is no representable date.

    The same string as ``datetime.fromtimestamp(ts, UTC).isoformat()`` with ``Z`` for ``+00:00``, rounded
    to the microsecond half to even alike (``tests/monitor/test_timestamps_iso.py`` holds them equal),
    built as the epoch plus a ``timedelta`` on a zone-less wall time: a page of alerts formats thousands.
    """
    try:
        return (_EPOCH_UTC_WALL + timedelta(seconds=ts)).isoformat() + "Z"
    except (OverflowError, ValueError):  # beyond year 1 to 9999, or not a number
        return None
