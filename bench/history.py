"""A simulated site with days to a year of 1 Hz history, written in bulk as the bridge would have left it.

Pushing a year of readings through :class:`monitor.engine.Engine` takes hours; this writes the same rows
directly, with the production functions that compute them:

- ``light_readings`` and ``temperature_readings``: each reading with the ledger's cumulative value from
  :func:`monitor.model.ledger.integrate` over the whole series (the engine runs the same integral batch by
  batch, continuing from the stored tail: the same trapezoids, summed in the same order);
- ``gaps``: the intervals that integral reports as longer than the sensor's ``max_gap_seconds``, under
  the engine's reason (:data:`monitor.engine.readings_writer.NO_READINGS`), as the engine records them;
- ``light_hour_maxima``: each clock hour's highest lux, with the statement
  :func:`monitor.store.readings.insert_light` raises it by;
- readings older than the retention period (``raw_retention_days``, 90 by default) as the minute
  aggregates :func:`monitor.store.retention.downsample` would have left, from
  :func:`monitor.store.retention.minutes_of`.

``tests/bench/test_history_builder.py`` holds a day built here equal to the same day pushed through the
engine and retention. The light is the simulated fridge's (dark, about ten door openings a day of 10-90 s
at 300-1000 lx, a 30 s restart gap every three days); the temperature 5 °C ± 0.5 every 10 s.
"""

from __future__ import annotations

import atexit
import math
import shutil
import sqlite3
import tempfile
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np

from monitor.config import Settings, parse_settings
from monitor.engine.readings_writer import NO_READINGS
from monitor.model import ledger
from monitor.model.kinetics import FloatArray
from monitor.model.profiles import Catalog
from monitor.model.quantities import ledger_integrand
from monitor.site_sync import sync_site
from monitor.store import Database, readings, retention, sites
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from monitor.store.sites import SensorRecord

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
FIRST_READING = T0 + 100.0
FORMS = (
    ("rozebalamin-25mg", "in-carton"),
    ("rozebalamin-25mg", "light-protected-vial"),
    ("methycobal-500ug-ampoule", "amber-glass"),
    ("dilute-infusion", "infusion-container"),
)
RESTART_EVERY_SECONDS = 259_200  # the bridge restarted every three days: a 30 s gap
RESTART_GAP_SECONDS = 30


def settings_for(path: Path) -> Settings:
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    return parse_settings(tomllib.loads(text), "simulated.toml", {"db_path": path})


def light_series(seconds: int) -> tuple[FloatArray, FloatArray]:
    """The simulated fridge's 1 Hz lux over ``seconds`` from the first reading, restarts left out."""
    rng = np.random.default_rng(1)
    lux = np.zeros(seconds)
    for start in rng.integers(0, max(seconds - 100, 1), max(seconds // 8_640, 1)):  # ~10 a day
        lux[start : start + rng.integers(10, 90)] = rng.uniform(300, 1000)
    k = np.arange(seconds)
    kept = k % RESTART_EVERY_SECONDS >= RESTART_GAP_SECONDS
    return FIRST_READING + k[kept].astype(np.float64), lux[kept]


def temperature_series(seconds: int) -> tuple[FloatArray, FloatArray]:
    k = np.arange(0, seconds, 10)
    return FIRST_READING + k.astype(np.float64), 5.0 + 0.5 * np.sin(k / 3600)


def register_vials(conn: sqlite3.Connection, catalog: Catalog, count: int, seconds: int) -> None:
    """``count`` vials registered at the start, each with up to two packaging changes over the history."""
    fridge = sites.location_by_key(conn, "fridge-1").id
    rng = np.random.default_rng(2)
    packaging = sorted(catalog.packaging)
    with transaction(conn):
        for i in range(count):
            form, pack = FORMS[i % len(FORMS)]
            vial_id = vial_store.register(
                conn,
                key=f"bench-{i:04d}",
                drug="mecobalamin",
                form=form,
                lot="BENCH",
                expiry=None,
                initial_potency_percent=100.0,
                location_id=fridge,
                packaging=pack,
                ts=T0 + 10.0,
                recorded_ts=T0 + 10.0,
            )
            for ts in sorted(rng.uniform(FIRST_READING, FIRST_READING + seconds, int(rng.integers(0, 3)))):
                vial_store.add_event(
                    conn,
                    vial_id=vial_id,
                    ts=float(ts),
                    kind="packaging-changed",
                    location_id=None,
                    packaging=str(rng.choice(packaging)),
                    detail="",
                    recorded_ts=float(ts),
                )


def _hour_maxima(conn: sqlite3.Connection, sensor: SensorRecord, t: FloatArray, lux: FloatArray) -> None:
    hour = np.floor(t / readings.SECONDS_PER_HOUR) * readings.SECONDS_PER_HOUR
    starts = np.flatnonzero(np.concatenate(([True], hour[1:] != hour[:-1])))
    highest = np.maximum.reduceat(lux, starts)
    conn.executemany(
        "INSERT INTO light_hour_maxima (sensor_id, hour_ts, max_lux) VALUES (?, ?, ?)"
        " ON CONFLICT (sensor_id, hour_ts) DO UPDATE SET max_lux = MAX(max_lux, excluded.max_lux)",
        zip([sensor.id] * len(starts), hour[starts].tolist(), highest.tolist(), strict=True),
    )


def write_series(
    conn: sqlite3.Connection, sensor: SensorRecord, t: FloatArray, values: FloatArray, raw_from: float
) -> None:
    """A sensor's readings with their ledger and gaps; those before ``raw_from`` as minute aggregates."""
    cum, gaps = ledger.integrate(None, t, ledger_integrand(sensor.quantity, values), sensor.max_gap_seconds)
    readings.insert_gaps(conn, sensor.id, gaps, NO_READINGS)
    if sensor.quantity == "light":
        _hour_maxima(conn, sensor, t, values)
    cut = int(np.searchsorted(t, math.floor(raw_from / 60.0) * 60.0))
    if cut:
        saturated = np.zeros(cut, dtype=bool)
        made = retention.minutes_of(t[:cut], values[:cut], saturated, cum[:cut], 0.0)
        retention.insert_aggregates(conn, sensor.id, made)
    n = len(t) - cut
    if sensor.quantity == "light":
        conn.executemany(
            "INSERT INTO light_readings"
            " (sensor_id, ts, lux, saturated, raw_counts, gain, integration_ms, cum_lux_hours)"
            " VALUES (?, ?, ?, 0, NULL, NULL, NULL, ?)",
            zip([sensor.id] * n, t[cut:].tolist(), values[cut:].tolist(), cum[cut:].tolist(), strict=True),
        )
    else:
        conn.executemany(
            "INSERT INTO temperature_readings"
            " (sensor_id, ts, celsius, relative_humidity_percent, cum_equivalent_hours)"
            " VALUES (?, ?, ?, NULL, ?)",
            zip([sensor.id] * n, t[cut:].tolist(), values[cut:].tolist(), cum[cut:].tolist(), strict=True),
        )


def build(
    path: Path, catalog: Catalog, days: float, vials: int, *, raw_retention_days: float | None = None
) -> float:
    """A site with ``days`` of history and ``vials`` vials registered at its start; returns its end.
    Readings older than ``raw_retention_days`` (default: the configuration's) are minute aggregates."""
    settings = settings_for(path)
    db = Database(path)
    db.initialise()
    conn = db.connect()
    try:
        sync_site(conn, settings, T0)
        seconds = int(days * 86_400)
        register_vials(conn, catalog, vials, seconds)
        end = FIRST_READING + seconds
        keep = settings.bridge.raw_retention_days if raw_retention_days is None else raw_retention_days
        raw_from = end - keep * 86_400
        with transaction(conn):
            write_series(conn, sites.sensor_by_key(conn, "fridge-1-lux"), *light_series(seconds), raw_from)
            write_series(
                conn, sites.sensor_by_key(conn, "fridge-1-temp"), *temperature_series(seconds), raw_from
            )
    finally:
        conn.close()
    return end


_BUILT: dict[tuple[float, int], tuple[Path, float]] = {}


def shared_site(catalog: Catalog, days: float, vials: int) -> tuple[Path, float]:
    """:func:`build` once per process for each ``(days, vials)``: the benchmarks that read the same site
    share it (a year takes a minute or two to write). Removed when the process exits."""
    key = (days, vials)
    if key not in _BUILT:
        folder = Path(tempfile.mkdtemp(prefix="vialguard-bench-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / f"{days:g}d-{vials}v.db"
        _BUILT[key] = (path, build(path, catalog, days, vials))
    return _BUILT[key]
