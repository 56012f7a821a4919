"""Potency bounds from the data: calibration, gaps, saturated readings; alerts on the low bound."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from hardware.clock import ManualClock
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.exposure import VialPotency, vial_potency
from monitor.model import kinetics
from monitor.model.profiles import Catalog, load_catalog
from monitor.store import alerts
from monitor.store import vials as vial_store
from tests.conftest import simulated_raw
from tests.monitor.test_lamps import open_site


@pytest.fixture
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The shipped profiles with the infusion container's τ exact (1): these tests pin the data's bounds,
    which the packaging's own range (tests/monitor/test_photolysis.py) would otherwise blur."""
    extra = tmp_path_factory.mktemp("profiles") / "exact.toml"
    extra.write_text(
        '[packaging.infusion-container]\ndescription = "exact"\n'
        'tau = { value = 1.0, provenance = "assumed", source = "test: exact" }\n',
        encoding="utf-8",
    )
    return load_catalog(extra)


def site(
    tmp_path: Path, location: dict[str, Any] | None = None, lux_sensor: dict[str, Any] | None = None
) -> Settings:
    raw = simulated_raw()
    raw["locations"][0].update({"lamp": "fluorescent-cool-white", **(location or {})})
    raw["sensors"][0].update(lux_sensor or {})
    return parse_settings(raw, "simulated.toml", {"db_path": tmp_path / "v.db"})


def feed(engine: Engine, t0: float, start: int, stop: int, lux: float, saturated: bool = False) -> None:
    for a in range(start, stop, 500):
        b = min(a + 500, stop)
        engine.ingest(
            Batch(light=[LightReading("fridge-1-lux", t0 + i, lux, saturated) for i in range(a, b)]), t0 + b
        )


def infusion(conn: Any, catalog: Catalog) -> VialPotency:
    v = vial_store.by_key(conn, "infusion-0001")
    assert v is not None
    return vial_potency(conn, catalog, v)


def test_known_lamp_and_clean_data_leave_only_parameter_ranges(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """Known lamp, no gaps, no calibration figure: the dose is exact; only k_thin·F(A)'s range remains."""
    conn, engine = open_site(site(tmp_path), catalog, clock)
    feed(engine, clock.wall(), 0, 1801, 500.0)
    p = infusion(conn, catalog)
    assert (
        p.effective_lux_hours_range.low == p.effective_lux_hours_range.high == pytest.approx(250.0, rel=1e-3)
    )
    drug = catalog.drug("mecobalamin")
    slow, fast = kinetics.photolysis_rate_range(drug, drug.forms["dilute-infusion"])
    assert p.percent_range.low == pytest.approx(100 * math.exp(-fast * 250.0), rel=1e-3)
    assert p.percent_range.high == pytest.approx(100 * math.exp(-slow * 250.0), rel=1e-3)
    assert any("parameter ranges" in n for n in p.uncertainty)


def test_calibration_uncertainty_widens_the_dose_both_ways(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """A sensor calibrated to ±2 lx (k = 2) over an hour: the dose may be 2 lx·h higher or lower."""
    s = site(tmp_path, lux_sensor={"calibration": {"expanded_uncertainty": 2.0}})
    conn, engine = open_site(s, catalog, clock)
    feed(engine, clock.wall(), 0, 3601, 100.0)
    p = infusion(conn, catalog)
    dose = p.effective_lux_hours_range
    assert (dose.low, dose.best, dose.high) == pytest.approx((98.0, 100.0, 102.0), rel=1e-3)
    assert any("calibration ±2 lx" in n for n in p.uncertainty)


@pytest.mark.parametrize(
    ("worst_case_lux", "expected_extra"),
    [(None, 300.0 * 0.5), (2000.0, 2000.0 * 0.5)],
    ids=["highest-seen", "configured"],
)
def test_gap_is_bounded_by_worst_case_or_highest_seen(
    tmp_path: Path, catalog: Catalog, clock: ManualClock, worst_case_lux: float | None, expected_extra: float
) -> None:
    """Half an hour without data between readings adds, to the high dose only, 0.5 h at the bound."""
    s = site(tmp_path, location={} if worst_case_lux is None else {"worst_case_lux": worst_case_lux})
    conn, engine = open_site(s, catalog, clock)
    t0 = clock.wall()
    feed(engine, t0, 0, 600, 300.0)
    feed(engine, t0, 600 + 1800, 3000, 300.0)
    p = infusion(conn, catalog)
    dose = p.effective_lux_hours_range
    assert dose.best == pytest.approx(300.0 * (599 + 599) / 3600, rel=1e-3)
    assert dose.high - dose.best == pytest.approx(expected_extra, rel=2e-3)
    assert dose.low == dose.best
    assert any("without data" in n for n in p.uncertainty)


def test_time_before_the_first_reading_is_bounded_by_light_seen_after_it(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """A vial registered 30 s before its fridge's first reading: asked about those seconds afterwards, its
    low bound counts them at the highest lux seen (300 lx), instead of falling to zero as unbounded."""
    conn, engine = open_site(site(tmp_path), catalog, clock)
    t0 = clock.wall()  # the vials' registration
    feed(engine, t0, 30, 630, 300.0)
    v = vial_store.by_key(conn, "infusion-0001")
    assert v is not None
    early = vial_potency(conn, catalog, v, as_of=t0 + 20)
    assert early.percent == pytest.approx(100.0)
    drug = catalog.drug("mecobalamin")
    _, fast = kinetics.photolysis_rate_range(drug, drug.forms["dilute-infusion"])
    assert early.percent_range.low == pytest.approx(100.0 * math.exp(-fast * 300.0 * 20 / 3600), rel=1e-3)
    assert any("without data at the highest seen 300 lx" in n for n in early.uncertainty)


def test_saturated_readings_only_lower_the_low_bound(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """Saturated readings are lower bounds: with a worst case they raise the high dose; without, no bound."""
    conn, engine = open_site(site(tmp_path, location={"worst_case_lux": 100_000.0}), catalog, clock)
    feed(engine, clock.wall(), 0, 10, 88_000.0, saturated=True)
    p = infusion(conn, catalog)
    assert p.effective_lux_hours_range.high - p.effective_lux_hours_range.best == pytest.approx(
        10 * 12_000 / 3600
    )
    assert p.percent_range.low < p.percent_range.best
    conn2, engine2 = open_site(site(tmp_path / "b"), catalog, ManualClock())
    feed(engine2, ManualClock().wall(), 0, 10, 88_000.0, saturated=True)
    p2 = infusion(conn2, catalog)
    assert p2.percent_range.low == 0.0
    assert any("saturated readings (lower bounds) and no worst case" in n for n in p2.uncertainty)


def test_potency_alert_uses_the_low_bound_and_says_so(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """Unknown lamp: the low bound crosses 95 % before the best estimate does; the alert says low bound."""
    raw = simulated_raw()
    s = parse_settings(raw, "simulated.toml", {"db_path": tmp_path / "v.db"})
    conn, engine = open_site(s, catalog, clock)
    feed(engine, clock.wall(), 0, 181, 500.0)  # 25 lx·h: best ≈ 96.5 %, low (κ up to 1.77) ≈ 93.7 %
    p = infusion(conn, catalog)
    assert p.percent_range.best > 95.0 > p.percent_range.low
    fired = [a for a in alerts.changed_since(conn, 0) if a.rule == "potency-warning"]
    assert len(fired) == 1
    assert fired[0].value == pytest.approx(p.percent_range.low, abs=0.05)
    assert "low bound" in fired[0].message


def test_time_to_threshold_at_current_light(tmp_path: Path, catalog: Catalog, clock: ManualClock) -> None:
    """At steady 200 lx, 25 °C the best time to 90 % is ln(p/90)/(k·200 + k_ref); the low bound is sooner."""
    conn, engine = open_site(site(tmp_path), catalog, clock)
    t0 = clock.wall()
    engine.ingest(
        Batch(
            light=[LightReading("fridge-1-lux", t0 + i, 200.0) for i in range(60)],
            temperature=[TemperatureReading("fridge-1-temp", t0 + i, 25.0) for i in range(0, 60, 10)],
        ),
        t0 + 60,
    )
    p = infusion(conn, catalog)
    drug = catalog.drug("mecobalamin")
    k = kinetics.photolysis_rate_per_lux_hour(drug, drug.forms["dilute-infusion"])
    ttt = p.time_to_threshold
    assert ttt is not None
    expected = math.log(p.percent / 90.0) / (k * 200.0 + drug.k_ref_per_hour.value)
    assert ttt.hours_best == pytest.approx(expected, rel=1e-6)
    assert ttt.hours == ttt.hours_low < ttt.hours_best
    assert ttt.limited_by == "model"


def test_silent_light_sensor_widens_the_low_bound_until_it_speaks(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """Light sensor silent for 20 min with a 50 lx worst case: best stays, low falls by 20 min at 50 lx."""
    conn, engine = open_site(site(tmp_path, location={"worst_case_lux": 50.0}), catalog, clock)
    t0 = clock.wall()
    feed(engine, t0, 0, 600, 0.0)
    v = vial_store.by_key(conn, "infusion-0001")
    assert v is not None
    before = vial_potency(conn, catalog, v, now=t0 + 600)
    engine.ingest(Batch(temperature=[TemperatureReading("fridge-1-temp", t0 + 1800, 4.0)]), t0 + 1800)
    silent = vial_potency(conn, catalog, v, now=t0 + 1800)
    assert silent.percent == before.percent
    drug = catalog.drug("mecobalamin")
    _, fast = kinetics.photolysis_rate_range(drug, drug.forms["dilute-infusion"])
    # unknown-κ is not in play (lamp configured); τ = 1: 1201 s at 50 lx beyond the last reading.
    expected = before.percent_range.low * math.exp(-fast * 50.0 * (1800 - 599) / 3600)
    assert silent.percent_range.low == pytest.approx(expected, rel=1e-3)
    assert any("without data at the worst case 50 lx" in n for n in silent.uncertainty)


def test_readings_within_the_bridges_commit_window_are_not_a_silence(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """The bridge commits every 30 s: 20 s after the last committed reading is no silence; 60 s is."""
    from monitor.store import health

    conn, engine = open_site(site(tmp_path, location={"worst_case_lux": 50.0}), catalog, clock)
    t0 = clock.wall()
    beat = health.Heartbeat(pid=1, real_ts=t0, sim_ts=t0 + 600, readings_total=0, report_lag_seconds=32.0)
    engine.ingest(
        Batch(light=[LightReading("fridge-1-lux", t0 + i, 0.0) for i in range(600)]), t0 + 600, beat
    )
    v = vial_store.by_key(conn, "infusion-0001")
    assert v is not None
    as_of_data = vial_potency(conn, catalog, v, now=t0 + 599)
    waiting = vial_potency(conn, catalog, v, now=t0 + 620)  # 21 s: over the 5 s gap, within the window
    assert waiting.percent_range.low == as_of_data.percent_range.low
    assert not any("without data" in n for n in waiting.uncertainty)
    silent = vial_potency(conn, catalog, v, now=t0 + 660)  # 61 s: beyond 5 s + 32 s
    assert silent.percent_range.low < as_of_data.percent_range.low
    assert any("without data at the worst case 50 lx" in n for n in silent.uncertainty)


def test_reconstituted_vial_past_the_label_limit_fires_then_resolves_when_given(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """§7: 60 min after reconstitution a critical alert says discard; administering the vial resolves it."""
    from monitor import lifecycle
    from monitor.store.database import transaction

    conn, engine = open_site(site(tmp_path), catalog, clock)
    t0 = clock.wall()
    roze = vial_store.by_key(conn, "roze-0002")
    assert roze is not None
    with transaction(conn):
        lifecycle.record_event(conn, catalog, roze, lifecycle.NewEvent("reconstituted", t0), t0)
    feed(engine, t0, 0, 3590, 0.0)
    assert not [a for a in alerts.changed_since(conn, 0) if a.rule == "label-time-limit"]
    feed(engine, t0, 3590, 3700, 0.0)
    (fired,) = [a for a in alerts.changed_since(conn, 0) if a.rule == "label-time-limit"]
    assert fired.vial_id == roze.id
    assert t0 + 3600 < fired.fired_ts <= t0 + 3700  # the first batch after the deadline
    assert "past the label's time limit" in fired.message
    assert "discard" in fired.message
    with transaction(conn):
        lifecycle.record_event(conn, catalog, roze, lifecycle.NewEvent("administered", t0 + 3650), t0 + 3700)
    feed(engine, t0, 3700, 3710, 0.0)
    assert alerts.get(conn, fired.id).state == "resolved"


def test_thermal_term_spans_the_activation_energy_and_sensor_ranges(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """Dark, 5 °C: Θ over Ea 60-130 kJ/mol and a ±0.5 °C probe brackets the best; at 25 °C Ea cancels out."""
    raw = simulated_raw()
    raw["locations"][0].update({"lamp": "fluorescent-cool-white", "worst_case_lux": 0.0})
    raw["sensors"][1]["calibration"] = {"expanded_uncertainty": 0.5}
    s = parse_settings(raw, "simulated.toml", {"db_path": tmp_path / "v.db"})
    conn, engine = open_site(s, catalog, clock)
    t0 = clock.wall()
    for a in range(0, 7201, 600):
        engine.ingest(
            Batch(
                light=[LightReading("fridge-1-lux", t0 + i, 0.0) for i in range(a, a + 600)],
                temperature=[TemperatureReading("fridge-1-temp", t0 + i, 5.0) for i in range(a, a + 600, 10)],
            ),
            t0 + a + 600,
        )
    carton = vial_store.by_key(conn, "roze-0001")
    assert carton is not None
    p = vial_potency(conn, catalog, carton)
    assert p.percent_range.low < p.percent_range.best < p.percent_range.high
    assert any("thermal: Ea 60-130 kJ/mol, sensor fridge-1-temp ±0.5 °C" in n for n in p.uncertainty)
    drug = catalog.drug("mecobalamin")
    hours = (p.as_of - t0) / 3600
    # the worst corner: Ea 60 kJ/mol (the weakest cooling benefit) at 5.5 °C
    worst = hours * math.exp(-(60.0 / kinetics.GAS_CONSTANT_KJ_PER_MOL_K) * (1 / 278.65 - 1 / 298.15))
    assert p.percent_range.low == pytest.approx(100 * math.exp(-drug.k_ref_per_hour.value * worst), rel=1e-9)


def test_saturation_bound_survives_a_missing_index(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """With the saturated-readings index dropped (a hand-rebuilt database) the bound holds, by a scan."""
    conn, engine = open_site(site(tmp_path, location={"worst_case_lux": 100_000.0}), catalog, clock)
    feed(engine, clock.wall(), 0, 10, 88_000.0, saturated=True)
    before = infusion(conn, catalog).effective_lux_hours_range
    conn.execute("DROP INDEX light_readings_saturated")
    assert infusion(conn, catalog).effective_lux_hours_range == before


def test_dark_batches_recheck_vials_on_a_timer_and_at_once_on_an_event(
    tmp_path: Path, catalog: Catalog, clock: ManualClock
) -> None:
    """In the dark the vial rules run every VIAL_RECHECK_SECONDS; a recorded event is seen the next batch."""
    from monitor import lifecycle
    from monitor.engine import VIAL_RECHECK_SECONDS
    from monitor.store.database import transaction

    conn, engine = open_site(site(tmp_path), catalog, clock)
    t0 = clock.wall()
    roze = vial_store.by_key(conn, "roze-0002")
    assert roze is not None
    with transaction(conn):
        lifecycle.record_event(conn, catalog, roze, lifecycle.NewEvent("reconstituted", t0), t0)
    for i in range(3700):  # one dark reading a second, one batch each
        engine.ingest(Batch(light=[LightReading("fridge-1-lux", t0 + i, 0.0)]), t0 + i + 1)
    (fired,) = [a for a in alerts.changed_since(conn, 0) if a.rule == "label-time-limit"]
    assert t0 + 3600 < fired.fired_ts <= t0 + 3600 + VIAL_RECHECK_SECONDS + 1
    with transaction(conn):
        lifecycle.record_event(conn, catalog, roze, lifecycle.NewEvent("administered", t0 + 3700), t0 + 3700)
    engine.ingest(Batch(light=[LightReading("fridge-1-lux", t0 + 3700, 0.0)]), t0 + 3701)
    assert alerts.get(conn, fired.id).state == "resolved"  # not 30 s later: the event moved the stamp
