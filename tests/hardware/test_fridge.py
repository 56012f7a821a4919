"""The simulated fridge: deterministic, realistic by the brief's figures, and its scenario hooks."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from hardware.fridge import SECONDS_PER_DAY, FridgeParameters, Scenario, SimulatedFridge

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def test_same_seed_same_conditions_in_any_order() -> None:
    """Two fridges with one seed agree at every instant, whatever order they are asked in."""
    a, b = SimulatedFridge(FridgeParameters(seed=7)), SimulatedFridge(FridgeParameters(seed=7))
    times = [T0 + x for x in np.linspace(0, 3 * SECONDS_PER_DAY, 500)]
    forward = [a.conditions(t) for t in times]
    backward = [b.conditions(t) for t in reversed(times)][::-1]
    assert forward == backward


def test_door_openings_follow_the_brief() -> None:
    """About 10 openings a day, 10-90 s each, at 300-1000 lx, only within opening hours."""
    fridge = SimulatedFridge(FridgeParameters(seed=3))
    days = 60
    openings = fridge.openings_between(T0, T0 + days * SECONDS_PER_DAY)
    assert 8 <= len(openings) / days <= 12
    for o in openings:
        assert 10 <= o.end - o.start <= 90
        assert 300 <= o.lux <= 1000
        hour = ((o.start - T0) % SECONDS_PER_DAY) / 3600
        assert 8 <= hour <= 20


def test_closed_fridge_is_dark_and_within_two_to_eight() -> None:
    """With no openings the interior is dark and the compressor keeps 2-8 °C."""
    fridge = SimulatedFridge(FridgeParameters(seed=1, openings_per_day=0))
    for t in np.arange(T0, T0 + SECONDS_PER_DAY, 97.0):
        c = fridge.conditions(float(t))
        assert c.lux == 0.0
        assert 2.0 <= c.celsius <= 8.0


def test_door_opening_warms_then_recovers() -> None:
    """Temperature rises while the door is open and decays back after it closes."""
    fridge = SimulatedFridge(FridgeParameters(seed=1, openings_per_day=0, celsius_noise=0.0))
    fridge.add_scenario(Scenario("door-left-open", T0 + 1000, 300, lux=500))
    before = fridge.conditions(T0 + 999).celsius
    during = fridge.conditions(T0 + 1290).celsius
    long_after = fridge.conditions(T0 + 1300 + 6000).celsius
    assert during > before + 3
    assert abs(long_after - fridge.conditions(T0 + 1300 + 6000 - 1800).celsius) < 1.0
    assert fridge.conditions(T0 + 1100).lux == pytest.approx(500, rel=0.05)
    assert fridge.door_open(T0 + 1100)


@pytest.mark.parametrize(
    ("scenario", "check"),
    [
        (Scenario("light-stuck-on", T0 + 100, 50, lux=350), lambda f: f.conditions(T0 + 120).lux > 300),
        (
            Scenario("temperature-excursion", T0 + 100, 7200, celsius=15),
            lambda f: f.conditions(T0 + 7000).celsius > 12,
        ),
        (
            Scenario("sensor-dropout", T0 + 100, 50, sensor="a"),
            lambda f: (
                f.sensor_dropped_out("a", T0 + 120)
                and not f.sensor_dropped_out("b", T0 + 120)
                and not f.sensor_dropped_out("a", T0 + 200)
            ),
        ),
    ],
    ids=["light-stuck-on", "temperature-excursion", "sensor-dropout"],
)
def test_scenario_hooks_force_their_event(scenario: Scenario, check: object) -> None:
    """Each scenario forces its event inside its window only."""
    fridge = SimulatedFridge(FridgeParameters(seed=1, openings_per_day=0))
    fridge.add_scenario(scenario)
    assert callable(check)
    assert check(fridge)


def test_memory_stays_bounded_over_a_month() -> None:
    """Querying a simulated month keeps only a few days of schedules cached."""
    fridge = SimulatedFridge()
    for day in range(31):
        fridge.conditions(T0 + day * SECONDS_PER_DAY + 43200)
    assert len(fridge._days) <= 4


def _standard_normal_ks(draws: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance between the sample's distribution and the standard normal."""
    x = np.sort(draws)
    cdf = np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x])
    n = len(x)
    return float(max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n)))


def test_measurement_noise_is_standard_normal_and_independent() -> None:
    """The per-instant lux and temperature noise are standard-normal draws, uncorrelated with each other."""
    params = FridgeParameters(seed=11, openings_per_day=0)
    noisy = SimulatedFridge(params)
    quiet = SimulatedFridge(replace(params, celsius_noise=0.0, lux_noise_fraction=0.0))
    for fridge in (noisy, quiet):
        fridge.add_scenario(Scenario("light-stuck-on", T0, 10 * SECONDS_PER_DAY, lux=500.0))
    times = T0 + np.arange(20_000) * 37.3
    lux_z, celsius_z = [], []
    for t in times:
        a, b = noisy.conditions(float(t)), quiet.conditions(float(t))
        lux_z.append((a.lux / b.lux - 1.0) / params.lux_noise_fraction)
        celsius_z.append((a.celsius - b.celsius) / params.celsius_noise)
    n = len(times)
    for z in (np.array(lux_z), np.array(celsius_z)):
        assert abs(z.mean()) < 4.0 / math.sqrt(n)
        assert z.std() == pytest.approx(1.0, abs=0.03)
        assert _standard_normal_ks(z) < 1.63 / math.sqrt(n)  # the 1 % critical value
    assert abs(np.corrcoef(lux_z, celsius_z)[0, 1]) < 4.0 / math.sqrt(n)


def test_conditions_at_one_instant_are_computed_once_and_follow_new_scenarios() -> None:
    """A second read at the same instant returns the same conditions; a scenario added since is seen."""
    fridge = SimulatedFridge(FridgeParameters(seed=2, openings_per_day=0))
    first = fridge.conditions(T0 + 500)
    assert fridge.conditions(T0 + 500) is first
    fridge.add_scenario(Scenario("light-stuck-on", T0, 1000, lux=400))
    assert first.lux == 0.0
    assert fridge.conditions(T0 + 500).lux == pytest.approx(400, rel=0.05)
