"""`monitor.integrity`: a sound database passes; a tampered ledger, a silent gap, an old schema fail."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from hardware.clock import ManualClock
from monitor.config import Settings
from monitor.integrity import check_database, recorded_breaks
from monitor.model import ledger
from monitor.model.profiles import Catalog
from tests.monitor.test_engine import run_simulation


@pytest.fixture
def simulated(settings: Settings, catalog: Catalog, clock: ManualClock) -> sqlite3.Connection:
    """Ten minutes of the simulated fridge (door openings included), stored in batches."""
    sim = settings.simulation.model_copy(update={"openings_per_day": 200.0, "opening_hours": [0.0, 24.0]})
    return run_simulation(settings.model_copy(update={"simulation": sim}), catalog, clock, 600.0)


def test_a_simulated_run_passes(simulated: sqlite3.Connection) -> None:
    """Integrity ok, current schema, every ledger equal to its recomputation."""
    report = check_database(simulated)
    assert report.problems == []
    assert {c.sensor_key for c in report.ledgers} == {"fridge-1-lux", "fridge-1-temp"}
    assert all(c.readings > 50 for c in report.ledgers)


def test_a_tampered_ledger_value_is_found(simulated: sqlite3.Connection) -> None:
    """One cumulative value changed by 0.01 lux·h is reported with its sensor and time."""
    ts = simulated.execute("SELECT ts FROM light_readings ORDER BY ts LIMIT 1 OFFSET 200").fetchone()[0]
    simulated.execute("UPDATE light_readings SET cum_lux_hours = cum_lux_hours + 0.01 WHERE ts = ?", (ts,))
    (problem,) = check_database(simulated).problems
    assert "fridge-1-lux" in problem
    assert "1 stored ledger value(s) differ" in problem
    assert str(ts) in problem


def test_a_deleted_gap_record_is_found(simulated: sqlite3.Connection) -> None:
    """Readings deleted from the middle without a gap recorded: a silent gap, reported."""
    simulated.execute(
        "DELETE FROM temperature_readings WHERE ts IN"
        " (SELECT ts FROM temperature_readings ORDER BY ts LIMIT 5 OFFSET 20)"
    )
    problems = check_database(simulated).problems
    assert any("fridge-1-temp" in p and "without a recorded gap" in p for p in problems)


def test_an_old_schema_is_reported(simulated: sqlite3.Connection) -> None:
    """A schema version behind the code's is a problem naming both versions."""
    simulated.execute("PRAGMA user_version = 1")
    (problem,) = check_database(simulated).problems
    assert "schema version 1" in problem


def test_recorded_breaks_find_overlapping_gaps() -> None:
    """An interval is a break exactly when a recorded gap overlaps it."""
    starts = np.array([0.0, 1.0, 2.0, 3.0])
    ends = np.array([1.0, 2.0, 3.0, 4.0])
    got = recorded_breaks(starts, ends, np.array([1.0, 3.5]), np.array([2.0, 3.6]))
    assert got.tolist() == [False, True, False, True]


def test_a_known_break_adds_nothing_and_is_not_reported_again() -> None:
    """`ledger.integrate` with a break: the interval adds nothing however short, and no gap is returned."""
    t = np.array([1.0, 2.0, 3.0])
    rate = np.full(3, 3600.0)
    cum, gaps = ledger.integrate(
        ledger.Tail(0.0, 3600.0, 5.0), t, rate, 5.0, breaks=np.array([True, False, False])
    )
    assert cum.tolist() == [5.0, 6.0, 7.0]
    assert gaps == []
