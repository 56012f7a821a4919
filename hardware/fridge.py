"""A deterministic simulated pharmacy fridge: the environment the simulated mode and the emulated chips see.

Behaviour, from the product brief (simulation parameters, not measured fridge data):
- the interior is dark while the door is closed;
- about ``openings_per_day`` door openings a day at random within opening hours, each 10-90 s, with the
  interior light at 300-1000 lx while open;
- 2-8 °C, with compressor cycling (a triangle wave) and a rise while the door is open that decays after it
  closes;
- scenario hooks force events: door left open, light stuck on, sensor dropout, temperature excursion.

Everything is a pure function of (seed, time): a day's door openings are drawn from a generator seeded by
``(seed, day number)``, and the per-instant noise is a hash of ``(seed, instant)``, so any instant can be
queried in any order and two runs with one seed agree. Only the last few days' schedules are cached, so a
simulated month holds no more memory than a simulated hour; the last instant's conditions are kept too,
because the chips on one bus are read at the same sample time.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from hardware.environment import Conditions

SECONDS_PER_DAY = 86_400.0
_MASK64 = (1 << 64) - 1
_GOLDEN_GAMMA = 0x9E3779B97F4A7C15  # splitmix64's increment: 2**64 / golden ratio, odd

ScenarioKind = Literal["door-left-open", "light-stuck-on", "sensor-dropout", "temperature-excursion"]
SCENARIO_KINDS: tuple[ScenarioKind, ...] = (
    "door-left-open",
    "light-stuck-on",
    "sensor-dropout",
    "temperature-excursion",
)


@dataclass(frozen=True, slots=True)
class FridgeParameters:
    """Simulation parameters of one fridge; the defaults are the brief's figures."""

    seed: int = 1
    openings_per_day: float = 10.0
    opening_hours: tuple[float, float] = (8.0, 20.0)  # local hours of the day
    utc_offset_hours: float = 0.0
    door_open_seconds: tuple[float, float] = (10.0, 90.0)
    interior_lux: tuple[float, float] = (300.0, 1000.0)
    # Compressor cycling between these temperatures; keeps the closed fridge inside 2-8 °C.
    cycle_celsius: tuple[float, float] = (3.5, 5.5)
    cycle_seconds: float = 1800.0
    # While the door is open warm air comes in; after it closes the compressor pulls it back down.
    door_rise_celsius_per_minute: float = 1.0
    door_rise_max_celsius: float = 4.0
    recovery_seconds: float = 600.0
    relative_humidity_percent: float = 45.0
    # Infrared share of a broadband photodiode's response under a white LED; keeps the TSL2591 driver's
    # lux formula in its valid region (ecosystem notes: keep under ~0.6).
    led_ir_fraction: float = 0.08
    # The interior lamp's spectrum (a key of hardware.spectra.LAMP_SOURCES): what spectral chips see.
    lamp: str = "led-4000k"
    lux_noise_fraction: float = 0.01
    celsius_noise: float = 0.02


@dataclass(frozen=True, slots=True)
class Scenario:
    """A forced event over ``[start, start + duration_seconds)`` in wall seconds."""

    kind: ScenarioKind
    start: float
    duration_seconds: float
    lux: float = 600.0  # light level for door-left-open and light-stuck-on
    celsius: float = 12.0  # target for temperature-excursion
    sensor: str | None = None  # sensor key for sensor-dropout; None drops every sensor

    def active(self, wall_seconds: float) -> bool:
        return self.start <= wall_seconds < self.start + self.duration_seconds


@dataclass(frozen=True, slots=True)
class DoorOpening:
    start: float
    end: float
    lux: float


@dataclass
class SimulatedFridge:
    """The simulated fridge; implements :class:`hardware.environment.Environment`."""

    params: FridgeParameters = field(default_factory=FridgeParameters)
    scenarios: list[Scenario] = field(default_factory=list)
    _days: OrderedDict[int, tuple[DoorOpening, ...]] = field(default_factory=OrderedDict, repr=False)
    # The openings of the days last asked for, flattened: ``(first day, last day, openings)``.
    _span: tuple[int, int, tuple[DoorOpening, ...]] = field(default=(0, -1, ()), repr=False)
    # The last instant's conditions, with what they were computed from (parameters, scenario count).
    _last: tuple[float, FridgeParameters, int, Conditions] | None = field(default=None, repr=False)

    def add_scenario(self, scenario: Scenario) -> None:
        self.scenarios.append(scenario)

    # -- door schedule -------------------------------------------------------------------------------

    def _day_openings(self, day: int) -> tuple[DoorOpening, ...]:
        cached = self._days.get(day)
        if cached is not None:
            self._days.move_to_end(day)
            return cached
        p = self.params
        rng = random.Random(p.seed * 1_000_003 + day)
        # Poisson count with the configured mean, drawn by summing exponential gaps over one day.
        count = 0
        acc = rng.expovariate(1.0)
        while acc < p.openings_per_day:
            count += 1
            acc += rng.expovariate(1.0)
        open_from, open_to = p.opening_hours
        day_start = day * SECONDS_PER_DAY - p.utc_offset_hours * 3600.0
        starts = sorted(rng.uniform(open_from * 3600.0, open_to * 3600.0) for _ in range(count))
        openings: list[DoorOpening] = []
        for offset in starts:
            start = day_start + offset
            if openings and start < openings[-1].end:
                continue  # the door is already open
            length = rng.uniform(*p.door_open_seconds)
            openings.append(DoorOpening(start, start + length, rng.uniform(*p.interior_lux)))
        result = tuple(openings)
        self._days[day] = result
        while len(self._days) > 4:
            self._days.popitem(last=False)
        return result

    def openings_between(self, start: float, end: float) -> list[DoorOpening]:
        """Scheduled door openings overlapping ``[start, end)``, in time order (scenarios not included)."""
        offset = self.params.utc_offset_hours * 3600.0
        first = math.floor((start + offset) / SECONDS_PER_DAY) - 1
        last = math.floor((end + offset) / SECONDS_PER_DAY)
        span_first, span_last, openings = self._span
        if (span_first, span_last) != (first, last):
            # Consecutive samples fall in the same days: flatten their schedules once, not per call.
            openings = tuple(o for day in range(first, last + 1) for o in self._day_openings(day))
            self._span = (first, last, openings)
        return [o for o in openings if o.end > start and o.start < end]

    # -- conditions ----------------------------------------------------------------------------------

    def _scenario(self, kind: ScenarioKind, wall_seconds: float) -> Scenario | None:
        for s in self.scenarios:
            if s.kind == kind and s.active(wall_seconds):
                return s
        return None

    def door_open(self, wall_seconds: float) -> bool:
        if self._scenario("door-left-open", wall_seconds) is not None:
            return True
        return bool(self.openings_between(wall_seconds, wall_seconds + 1e-6))

    def _noise(self, wall_seconds: float, salt: int) -> float:
        # A standard-normal draw that depends only on (seed, instant, salt): reproducible in any order.
        # Two splitmix64 outputs of the key give two uniforms, Box-Muller turns them into a normal draw;
        # seeding a Mersenne Twister per value cost more than the rest of the fridge together.
        key = (self.params.seed * 7_919 + salt) * 10_000_019 + int(wall_seconds * 1000.0)
        first = _splitmix64(key + _GOLDEN_GAMMA)
        second = _splitmix64(key + 2 * _GOLDEN_GAMMA)
        u1 = ((first >> 11) + 1) * 2.0**-53  # in (0, 1]: the logarithm stays finite
        u2 = (second >> 11) * 2.0**-53
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def _lux(self, wall_seconds: float, current: list[DoorOpening]) -> float:
        """Illuminance at ``wall_seconds``; ``current`` holds the scheduled openings around it."""
        forced = self._scenario("door-left-open", wall_seconds) or self._scenario(
            "light-stuck-on", wall_seconds
        )
        if forced is not None:
            base = forced.lux
        else:
            open_now = [o for o in current if o.end > wall_seconds]
            if not open_now:
                return 0.0
            base = open_now[0].lux
        lux = base * (1.0 + self.params.lux_noise_fraction * self._noise(wall_seconds, 1))
        return max(lux, 0.0)

    def _recent_openings(self, wall_seconds: float) -> list[DoorOpening]:
        """Scheduled openings over the door-rise lookback up to just past ``wall_seconds``.

        The same list answers "is the door open now" (those not yet ended) and "how warm is it from recent
        openings"; one opening starting within the last microsecond adds no rise.
        """
        lookback = wall_seconds - 8.0 * self.params.recovery_seconds
        return self.openings_between(lookback, wall_seconds + 1e-6)

    def _door_rise(self, wall_seconds: float, recent: list[DoorOpening]) -> float:
        p = self.params
        rate = p.door_rise_celsius_per_minute / 60.0
        lookback = wall_seconds - 8.0 * p.recovery_seconds
        intervals = [(o.start, o.end) for o in recent]
        intervals += [
            (s.start, s.start + s.duration_seconds)
            for s in self.scenarios
            if s.kind == "door-left-open"
            and s.start <= wall_seconds
            and s.start + s.duration_seconds > lookback
        ]
        rise = 0.0
        for start, end in intervals:
            if wall_seconds < end:
                rise = max(rise, min(rate * (wall_seconds - start), p.door_rise_max_celsius))
            else:
                peak = min(rate * (end - start), p.door_rise_max_celsius)
                rise = max(rise, peak * math.exp(-(wall_seconds - end) / p.recovery_seconds))
        return rise

    def _celsius(self, wall_seconds: float, recent: list[DoorOpening]) -> float:
        p = self.params
        low, high = p.cycle_celsius
        phase = (wall_seconds / p.cycle_seconds) % 1.0
        triangle = 1.0 - abs(2.0 * phase - 1.0)  # 0 -> 1 -> 0 over one compressor cycle
        celsius = low + (high - low) * triangle + self._door_rise(wall_seconds, recent)
        excursion = self._scenario("temperature-excursion", wall_seconds)
        if excursion is not None:
            approach = 1.0 - math.exp(-(wall_seconds - excursion.start) / p.recovery_seconds)
            celsius += (excursion.celsius - celsius) * approach
        return celsius + p.celsius_noise * self._noise(wall_seconds, 2)

    def conditions(self, wall_seconds: float) -> Conditions:
        last = self._last
        if (
            last is not None
            and last[0] == wall_seconds
            and last[1] is self.params
            and last[2] == len(self.scenarios)
        ):
            return last[3]  # another register or chip read at the same sample time
        recent = self._recent_openings(wall_seconds)
        lux = self._lux(wall_seconds, recent)
        conditions = Conditions(
            lux=lux,
            celsius=self._celsius(wall_seconds, recent),
            relative_humidity_percent=self.params.relative_humidity_percent,
            ir_fraction=self.params.led_ir_fraction,
            lamp=self.params.lamp if lux > 0.0 else "dark",
        )
        self._last = (wall_seconds, self.params, len(self.scenarios), conditions)
        return conditions

    def sensor_dropped_out(self, sensor_key: str, wall_seconds: float) -> bool:
        """True while a sensor-dropout scenario covers ``sensor_key`` (or every sensor)."""
        if not self.scenarios:  # asked on every bus transfer; most sites run without scenarios
            return False
        return any(
            s.kind == "sensor-dropout" and s.active(wall_seconds) and s.sensor in (None, sensor_key)
            for s in self.scenarios
        )


def _splitmix64(state: int) -> int:
    """splitmix64's output function (Steele, Lea and Flood 2014): a 64-bit hash with full avalanche."""
    z = state & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)
