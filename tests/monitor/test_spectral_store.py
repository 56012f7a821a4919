"""The spectral readings store: ledgers continued across batches, gaps kept, bad readings refused."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.model import ledger
from monitor.model.spectral import AS7341, SpectralCounts, reconstruction, spectrum_of
from monitor.store import Database, sites, spectral
from monitor.store.database import transaction

NAMES = (*AS7341.channels, "clear", "NIR_910")


@contextmanager
def store(max_gap_seconds: float = 15.0) -> Iterator[tuple[sqlite3.Connection, sites.SensorRecord]]:
    """A fresh database file with one location and one spectral sensor."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "v.db")
        db.initialise()
        conn = db.connect()
        with transaction(conn):
            sites.upsert_location(conn, "fridge-1", "Fridge", "fridge")
            sites.upsert_sensor(
                conn, sites.SensorSpec("spec", "fridge-1", "light", "as7341", 5.0, max_gap_seconds)
            )
        yield conn, sites.sensor_by_key(conn, "spec")
        conn.close()


def row(ts: float, lux: float, warmth: float, near_uv: float | None = None) -> spectral.SpectralRow:
    """A reading whose spectrum leans red as ``warmth`` rises (so κ_s varies from row to row)."""
    counts = tuple(int(1000 + 400 * (i * warmth - 3.5)) for i in range(8))
    return spectral.SpectralRow(
        ts, lux, SpectralCounts("as7341", NAMES, (*counts, 9000, 10), 128.0, 280.8, False, near_uv)
    )


def insert(conn: sqlite3.Connection, sensor: sites.SensorRecord, rows: list[spectral.SpectralRow]) -> int:
    with transaction(conn):
        return spectral.insert(conn, sensor, rows)


readings = st.lists(
    st.tuples(
        st.floats(min_value=0.5, max_value=20.0),  # seconds since the previous reading
        st.floats(min_value=0.0, max_value=5000.0),  # lux
        st.floats(min_value=0.0, max_value=1.0),  # warmth
        st.floats(min_value=0.0, max_value=50.0),  # near-UV W/m²
    ),
    min_size=2,
    max_size=40,
)


@settings(max_examples=25, deadline=None)
@given(readings, st.integers(min_value=1, max_value=39))
def test_ledgers_are_the_same_whether_stored_at_once_or_in_two_batches(
    values: list[tuple[float, float, float, float]], split: int
) -> None:
    """Continuing from the stored tail, two batches give the ledgers one batch gives, gaps included."""
    t, rows = 0.0, []
    for dt, lux, warmth, uv in values:
        t += dt
        rows.append(row(t, lux, warmth, uv))
    split = min(split, len(rows) - 1)
    with store() as (conn, sensor):
        insert(conn, sensor, rows)
        whole = spectral.ledgers_at(conn, sensor, t)
    with store() as (conn, sensor):
        insert(conn, sensor, rows[:split])
        insert(conn, sensor, rows[split:])
        parts = spectral.ledgers_at(conn, sensor, t)
    assert parts.spectral_lux_hours == pytest.approx(whole.spectral_lux_hours, rel=1e-9, abs=1e-12)
    assert parts.kappa_lux_hours == pytest.approx(whole.kappa_lux_hours, rel=1e-9, abs=1e-12)
    assert parts.near_uv_wh_per_m2 == pytest.approx(whole.near_uv_wh_per_m2, rel=1e-9, abs=1e-12)
    assert parts.spectrum_wh_per_m2_nm == pytest.approx(whole.spectrum_wh_per_m2_nm, rel=1e-9, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(min_value=0.5, max_value=30.0), min_size=1, max_size=30),
    st.lists(st.floats(min_value=0.0, max_value=5000.0), min_size=31, max_size=31),
    st.booleans(),
)
def test_every_ledger_is_integrated_as_the_lux_ledger_is(
    steps: list[float], lux: list[float], tail: bool
) -> None:
    """The spectral ledgers, all in one pass, are each column of ledger.integrate bit for bit, gaps and a
    continued tail included."""
    t = np.cumsum(steps)
    rates = np.array([[x, 0.5 * x, x / 7.0] + [x * k for k in range(8)] for x in lux[: len(t)]])
    start = (t[0] - 2.0, np.array(lux[-1:] * 11), np.arange(11.0)) if tail else None
    together = spectral.integrate(start, t, rates, 15.0)
    for j in range(rates.shape[1]):
        one = None if start is None else ledger.Tail(start[0], float(start[1][j]), float(start[2][j]))
        alone, _ = ledger.integrate(one, t, rates[:, j], 15.0)
        assert together[:, j].tolist() == alone.tolist()


def test_the_spectrum_ledgers_hold_the_light_the_estimate_gives() -> None:
    """Over steady light the spectrum ledgers' difference, through the estimate's lux, is the lux·h the
    readings saw, and per lux it is the readings' own peak irradiances; a reading stored before
    migration 21 (ledgers left at 0) adds nothing to them, and the next continues from it."""
    rows = [row(float(i), 400.0, 0.3) for i in range(11)]
    peaks = spectrum_of(rows[0].spectrum)
    assert peaks is not None
    with store() as (conn, sensor):
        insert(conn, sensor, rows[:1])
        with transaction(conn):  # as migration 21 leaves a reading stored before it
            conn.execute(
                f"UPDATE spectral_readings SET {', '.join(f'{c} = 0' for c in spectral.SPECTRUM_COLUMNS)}"
            )
        insert(conn, sensor, rows[1:])
        a, b = spectral.ledgers_at(conn, sensor, 0.0), spectral.ledgers_at(conn, sensor, 10.0)
    delta = np.array(b.spectrum_wh_per_m2_nm) - np.array(a.spectrum_wh_per_m2_nm)
    assert a.spectrum_wh_per_m2_nm == spectral.NO_SPECTRUM
    assert float(delta @ reconstruction(AS7341).lux) == pytest.approx(400.0 * 10 / 3600, rel=1e-12)
    assert delta / (400.0 * 10 / 3600) == pytest.approx(peaks, rel=1e-12)


def test_nothing_accumulates_across_a_gap() -> None:
    """Two readings 60 s apart with a 15 s gap limit: no dose is invented between them."""
    with store() as (conn, sensor):
        insert(
            conn,
            sensor,
            [row(0.0, 500.0, 0.5, 10.0), row(5.0, 500.0, 0.5, 10.0), row(65.0, 500.0, 0.5, 10.0)],
        )
        ledgers = spectral.ledgers_at(conn, sensor, 65.0)
    assert ledgers.spectral_lux_hours == pytest.approx(500.0 * 5 / 3600)
    assert ledgers.near_uv_wh_per_m2 == pytest.approx(10.0 * 5 / 3600)


def test_readings_at_or_before_the_last_stored_are_ignored() -> None:
    """A repeated or older reading is left out; what was stored stays as it was."""
    with store() as (conn, sensor):
        assert insert(conn, sensor, [row(10.0, 100.0, 0.2), row(11.0, 100.0, 0.2)]) == 2
        before = spectral.ledgers_at(conn, sensor, 11.0)
        assert insert(conn, sensor, [row(11.0, 900.0, 0.9), row(5.0, 900.0, 0.9)]) == 0
        assert spectral.ledgers_at(conn, sensor, 11.0) == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"counts": (1, 2, 3)}, "3 counts for 10 channels"),
        ({"gain": 0.0}, "gain 0.0 and integration 280.8 ms must be > 0"),
        ({"integration_ms": -1.0}, "must be > 0"),
        ({"near_uv_w_per_m2": -0.5}, "near-UV irradiance -0.5 W/m² must be ≥ 0"),
        ({"near_uv_w_per_m2": float("nan")}, "near-UV irradiance nan"),
    ],
    ids=["counts-short", "zero-gain", "negative-integration", "negative-uv", "nan-uv"],
)
def test_malformed_spectral_reading_is_refused_naming_the_problem(
    changes: dict[str, Any], message: str
) -> None:
    """A reading whose counts, settings or UV estimate cannot be right fails at once, saying which."""
    fields: dict[str, Any] = {
        "chip": "as7341",
        "channels": NAMES,
        "counts": (1,) * 10,
        "gain": 128.0,
        "integration_ms": 280.8,
    }
    with pytest.raises(ValueError, match=message):
        SpectralCounts(**(fields | changes))
