"""GET /api/v1/system-events over a real server: what the system recorded about itself, newest first."""

from __future__ import annotations

from monitor.store import runs
from tests.api.conftest import Served


def test_lists_events_newest_first_by_kind_and_limit(served: Served) -> None:
    """Three events of two kinds: all newest first, one kind alone, the limit honoured, a bad limit named."""
    now = served.clock.wall()
    conn = served.database.connect()
    with conn:
        runs.record_event(conn, now - 7200.0, "clock-jump", "the wall clock stepped forward by 10800.000 s")
        runs.record_event(conn, now - 3600.0, "unclean-shutdown", "nothing was recorded from ... to ...")
        runs.record_event(conn, now - 60.0, "clock-jump", "the wall clock stepped backward by 2.500 s")
    conn.close()
    got = served.client.get("/api/v1/system-events").json()
    assert [(e["kind"], e["ts"]) for e in got] == [
        ("clock-jump", now - 60.0),
        ("unclean-shutdown", now - 3600.0),
        ("clock-jump", now - 7200.0),
    ]
    assert got[0]["detail"] == "the wall clock stepped backward by 2.500 s"
    jumps = served.client.get("/api/v1/system-events", params={"kind": "clock-jump", "limit": 1}).json()
    assert [e["ts"] for e in jumps] == [now - 60.0]
    bad = served.client.get("/api/v1/system-events", params={"limit": 0})
    assert bad.status_code == 422
    assert "limit" in bad.text


def test_no_event_is_an_empty_list(served: Served) -> None:
    assert served.client.get("/api/v1/system-events").json() == []
