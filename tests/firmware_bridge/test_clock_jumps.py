"""The wall clock stepped forward and backward through the injected clock; a Pi booting unsynchronised."""

from __future__ import annotations

import itertools
import logging
import sqlite3
from pathlib import Path

import pytest

from firmware_bridge.acquisition import AcquisitionLoop
from hardware.clock import ManualClock
from hardware.errors import HardwareError
from hardware.timesync import KernelTimeSync, ManualTimeSync
from monitor.config import Settings
from monitor.engine import Engine
from monitor.integrity import check_database
from monitor.model.profiles import Catalog
from monitor.store import alerts, readings, runs, sites
from monitor.store.spool import Spool, read_spool
from monitor.timekeeping import CLOCK_JUMP_EVENT, UNSYNCHRONISED_RULE
from tests.monitor.test_engine import open_engine, simulated_loop

HOURS = 3600.0


def make_loop(
    settings: Settings,
    engine: Engine,
    clock: ManualClock,
    sync: ManualTimeSync | None,
    *,
    spool: Spool | None = None,
    stamp_at_due_time: bool = False,
    hold_seconds: float = 300.0,
) -> AcquisitionLoop:
    return simulated_loop(
        settings,
        clock,
        engine,
        2.0,
        commit_seconds=10.0,
        spool=spool,
        stamp_at_due_time=stamp_at_due_time,
        time_sync=sync,
        hold_unsynchronised_seconds=hold_seconds,
    )


def advance(loop: AcquisitionLoop, clock: ManualClock, seconds: int) -> None:
    for _ in range(seconds):
        loop.poll_once()
        if loop.due_for_flush():
            loop.flush()
        elif loop.due_for_spool():
            loop.write_spool()
        clock.advance(1.0)


def light_ts(conn: sqlite3.Connection) -> list[float]:
    lux = sites.sensor_by_key(conn, "fridge-1-lux")
    return [ts for ts, _ in readings.series(conn, lux, 0.0, 1e12, limit=1_000_000)]


def clock_alerts(conn: sqlite3.Connection) -> list[alerts.AlertRecord]:
    return [a for a in alerts.changed_since(conn, 0) if a.rule == UNSYNCHRONISED_RULE]


@pytest.mark.parametrize("stamp_at_due_time", [False, True], ids=["stamped-when-read", "stamped-at-due-time"])
def test_boot_unsynchronised_then_ntp_steps_forward(
    settings: Settings, catalog: Catalog, clock: ManualClock, stamp_at_due_time: bool
) -> None:
    """Held while unsynchronised, alerted; NTP's 3 h step re-stamps them, stored gap-free; alert resolved."""
    stale = clock.wall()
    conn, engine = open_engine(settings, catalog, clock)
    sync = ManualTimeSync(synchronised=False)
    spool = Spool(Spool.beside(settings.db_path))
    loop = make_loop(settings, engine, clock, sync, spool=spool, stamp_at_due_time=stamp_at_due_time)
    advance(loop, clock, 120)
    assert light_ts(conn) == []  # held, not committed
    (alert,) = clock_alerts(conn)
    assert alert.state == "firing"
    assert alert.alert_class == "system"
    assert len(read_spool(spool.path).batch.light) >= 118  # a crash now loses at most the last 2 s

    clock.step_wall(3 * HOURS)  # NTP steps the clock ...
    sync.state = True  # ... and the kernel reports it synchronised
    advance(loop, clock, 20)
    stamps = light_ts(conn)
    assert stamps[0] == stale + 3 * HOURS  # the first reading, re-stamped by the step
    assert all(b - a == pytest.approx(1.0) for a, b in itertools.pairwise(stamps))  # no gap
    assert stamps[-1] < clock.wall()
    (jump,) = runs.events(conn, CLOCK_JUMP_EVENT)
    assert "stepped forward by 10800.000 s" in jump.detail
    assert "re-stamped" in jump.detail
    (alert,) = clock_alerts(conn)
    assert alert.state == "resolved"
    assert conn.execute("SELECT COUNT(*) FROM gaps").fetchone()[0] == 0
    assert check_database(conn).problems == []
    assert all(r.ts >= stale + 3 * HOURS for r in read_spool(spool.path).batch.light)  # no old stamps


def test_a_backward_step_while_held_restamps_back(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A clock booted ahead of true time: the backward step moves the held readings back with it."""
    start = clock.wall()
    conn, engine = open_engine(settings, catalog, clock)
    sync = ManualTimeSync(synchronised=False)
    loop = make_loop(settings, engine, clock, sync)
    advance(loop, clock, 60)
    clock.step_wall(-2 * HOURS)
    sync.state = True
    advance(loop, clock, 20)
    stamps = light_ts(conn)
    assert stamps[0] == start - 2 * HOURS
    assert all(b - a == pytest.approx(1.0) for a, b in itertools.pairwise(stamps))
    (jump,) = runs.events(conn, CLOCK_JUMP_EVENT)
    assert "stepped backward by 7200.000 s" in jump.detail


def test_a_step_of_a_synchronised_clock_is_an_event(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Synchronised throughout: readings are committed as they go; a 10 min step is recorded as an event."""
    conn, engine = open_engine(settings, catalog, clock)
    loop = make_loop(settings, engine, clock, ManualTimeSync(synchronised=True))
    advance(loop, clock, 30)
    loop.flush()
    before = light_ts(conn)[-1]
    clock.step_wall(600.0)
    advance(loop, clock, 30)
    stamps = light_ts(conn)
    after = [t for t in stamps if t > before]
    assert after[0] == pytest.approx(before + 601.0)  # one monotonic second later, on the new wall time
    assert all(b - a == pytest.approx(1.0) for a, b in itertools.pairwise(after))  # durations
    (jump,) = runs.events(conn, CLOCK_JUMP_EVENT)
    assert "forward by 600.000 s" in jump.detail
    assert clock_alerts(conn) == []
    assert check_database(conn).problems == []


def test_a_backward_step_of_a_synchronised_clock_is_a_gap_over_the_times_given_twice(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """Synchronised, readings committed as stamped, then NTP steps the clock back 20.5 s: the next 20.5 s
    of readings take times already given. Each sensor gets a gap over them, so the ledger adds nothing
    there (which set of times is right cannot be known) and the database still checks out."""
    conn, engine = open_engine(settings, catalog, clock)
    loop = make_loop(settings, engine, clock, ManualTimeSync(synchronised=True))
    advance(loop, clock, 60)
    loop.flush()
    last = light_ts(conn)[-1]
    clock.step_wall(-20.5)
    stepped = clock.wall()
    advance(loop, clock, 40)
    loop.flush()
    for key in ("fridge-1-lux", "fridge-1-temp"):
        sensor = sites.sensor_by_key(conn, key)
        (gap,) = conn.execute(
            "SELECT start_ts, end_ts FROM gaps WHERE sensor_id = ? AND reason LIKE '%stepped back%'",
            (sensor.id,),
        ).fetchall()
        assert gap == (pytest.approx(stepped), pytest.approx(stepped + 20.5))
        assert gap[0] < last < gap[1]
    # The thermal ledger grows with every second of known time: across the gap it stands still.
    temp = sites.sensor_by_key(conn, "fridge-1-temp")
    inside = conn.execute(
        "SELECT ts, cum_equivalent_hours FROM temperature_readings WHERE sensor_id = ? AND ts BETWEEN ? AND ?"
        " ORDER BY ts",
        (temp.id, stepped, stepped + 20.5),
    ).fetchall()
    assert len(inside) >= 3
    assert len({c for _, c in inside}) == 1
    (jump,) = runs.events(conn, CLOCK_JUMP_EVENT)
    assert "backward by 20.500 s" in jump.detail
    assert check_database(conn).problems == []


def test_a_slew_is_not_a_step(settings: Settings, catalog: Catalog, clock: ManualClock) -> None:
    """NTP slewing half a second is followed silently: no event."""
    conn, engine = open_engine(settings, catalog, clock)
    loop = make_loop(settings, engine, clock, None)
    advance(loop, clock, 10)
    clock.step_wall(0.5)
    advance(loop, clock, 10)
    assert runs.events(conn, CLOCK_JUMP_EVENT) == []


def test_never_synchronised_commits_after_the_hold(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """No time server at all: readings wait the hold time, then are committed as stamped; the alert stays."""
    conn, engine = open_engine(settings, catalog, clock)
    loop = make_loop(settings, engine, clock, ManualTimeSync(synchronised=False), hold_seconds=60.0)
    advance(loop, clock, 50)
    assert light_ts(conn) == []
    advance(loop, clock, 40)
    assert len(light_ts(conn)) >= 70
    (alert,) = clock_alerts(conn)
    assert alert.state == "firing"


def test_the_kernel_can_be_asked(tmp_path: Path) -> None:
    """adjtimex answers on Linux without privilege: synchronised or not, never an error."""
    assert KernelTimeSync().synchronised() in {True, False}


class RefusedTimeSync:
    """A time source that cannot answer, as adjtimex under a seccomp filter (EPERM): a stand-in, since no
    test process can install systemd's filter on itself and lift it again."""

    def __init__(self) -> None:
        self.refused = True

    def synchronised(self) -> bool:
        if self.refused:
            raise HardwareError("adjtimex failed: EPERM")
        return True


def test_a_time_source_that_cannot_answer_is_logged_once(
    settings: Settings, catalog: Catalog, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused question about the clock is one warning, not one per commit; its return is one info."""
    conn, engine = open_engine(settings, catalog, clock)
    sync = RefusedTimeSync()
    loop = simulated_loop(
        settings, clock, engine, 2.0, commit_seconds=10.0, time_sync=sync, hold_unsynchronised_seconds=600.0
    )
    with caplog.at_level(logging.INFO, logger="firmware_bridge.acquisition"):
        advance(loop, clock, 60)  # six commits
        sync.refused = False
        advance(loop, clock, 20)
    said = [r.getMessage() for r in caplog.records if "synchronis" in r.getMessage()]
    assert [m for m in said if m.startswith("cannot tell")] == [
        "cannot tell whether the clock is synchronised (adjtimex failed: EPERM); taking it as not"
    ]
    assert "clock synchronisation can be told again: synchronised" in said
    assert len(light_ts(conn)) >= 70  # held while unknown, committed once known


def test_stopping_while_unsynchronised_commits_what_is_held(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A stop while readings wait for the clock: they are committed as stamped, nothing is left behind."""
    conn, engine = open_engine(settings, catalog, clock)
    loop = make_loop(settings, engine, clock, ManualTimeSync(synchronised=False))
    advance(loop, clock, 30)
    assert light_ts(conn) == []
    loop.flush(final=True)
    assert loop.unflushed == 0
    assert len(light_ts(conn)) == 30
