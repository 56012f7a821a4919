"""A scripted two hours at the simulated site, pushed through the real engine as the bridge would.

Light at 1 Hz: dark, with three door openings (30 s at 500 lx, 90 s at 400 lx, 300 s at 800 lx; the last
fires the light alert). Temperature every 10 s: 5 °C, with 20 minutes at 10 °C (fires the temperature alert).
"""

from __future__ import annotations

from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings
from monitor.engine import Engine
from monitor.model.profiles import Catalog
from monitor.store import Database

DOORS: tuple[tuple[int, int, float], ...] = ((600, 30, 500.0), (1800, 90, 400.0), (3600, 300, 800.0))
WARM_START, WARM_SECONDS, WARM_CELSIUS = 4000, 1200, 10.0
DURATION = 7200
EXPECTED_LUX_HOURS = sum(seconds * lux for _, seconds, lux in DOORS) / 3600.0


def lux_at(second: int) -> float:
    for start, seconds, lux in DOORS:
        if start <= second < start + seconds:
            return lux
    return 0.0


def celsius_at(second: int) -> float:
    return WARM_CELSIUS if WARM_START <= second < WARM_START + WARM_SECONDS else 5.0


def feed_timeline(
    database: Database,
    catalog: Catalog,
    settings: Settings,
    t0: float,
    seconds: int = DURATION,
    begin: int = 0,
) -> None:
    """Store the timeline from second ``begin`` to ``seconds``, its second 0 at wall time ``t0``."""
    conn = database.connect()
    try:
        engine = Engine(conn, catalog, default_rules(settings.rules.thresholds()))
        for start in range(begin, seconds, 300):
            end = min(start + 300, seconds)
            batch = Batch(
                light=[LightReading("fridge-1-lux", t0 + s, lux_at(s)) for s in range(start, end)],
                temperature=[
                    TemperatureReading("fridge-1-temp", t0 + s, celsius_at(s)) for s in range(start, end, 10)
                ],
            )
            engine.ingest(batch, t0 + end)
    finally:
        conn.close()
