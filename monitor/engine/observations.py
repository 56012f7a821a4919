"""What each rule sees: the metrics of a batch turned into observations per subject.

A table, one row per metric (:data:`OBSERVERS`): a new metric is a new row with its observe function. Each
function returns the observations per subject, keyed by ``(name shown in messages, id)``; a subject left
out is not evaluated this batch (its rule's timers stand as they were).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from monitor import exposure
from monitor.alerts.rule import Metric, Observation, Rule
from monitor.batch import Batch
from monitor.model.profiles import Catalog
from monitor.model.quantities import Quantity
from monitor.site_view import SiteView
from monitor.store import vials as vial_store
from monitor.store.sites import LocationRecord, SensorRecord

Subjects = dict[tuple[str, int], list[Observation]]


@dataclass
class Scene:
    """What the rules observe in one batch, as of ``now``: the store, the batch's values per sensor and
    the engine's view of its sensors, read once and shared by every rule."""

    conn: sqlite3.Connection
    catalog: Catalog
    batch: Batch
    observed: Mapping[str, list[Observation]]  # per sensor key, the values stored this batch
    now: float
    sensors: Mapping[str, SensorRecord]
    last_ts: Mapping[str, float | None]  # each sensor's newest stored reading
    locations: Mapping[int, LocationRecord]
    holding: set[int]  # locations holding an active vial
    site: SiteView
    potencies: dict[int, exposure.VialPotency] = field(default_factory=dict)  # per vial, once a batch

    def reporting(self, location_id: int | None) -> bool:
        """Whether the location has data: a reading from any of its sensors, or no sensor to wait for."""
        there = [s.key for s in self.sensors.values() if s.location_id == location_id]
        return not there or any(self.last_ts.get(key) is not None for key in there)

    def potency(self, vial: vial_store.VialRecord) -> exposure.VialPotency:
        """The vial's potency as of ``now``, computed once a batch whichever vial rules ask."""
        p = self.potencies.get(vial.id)
        if p is None:
            self.evaluate([vial])
            p = self.potencies[vial.id]
        return p

    def evaluate(self, vials: Sequence[vial_store.VialRecord]) -> None:
        """Compute the potency of those of ``vials`` not computed this batch, from one load and one pass."""
        missing = [v for v in vials if v.id not in self.potencies]
        found = exposure.vial_potencies(self.conn, self.catalog, missing, now=self.now)
        self.potencies.update((v.id, p) for v, p in zip(missing, found, strict=True))


Observe = Callable[[Rule, Scene], Subjects]


def _inside(rule: Rule, now: float) -> list[Observation]:
    """A value inside every bound of ``rule``: the subject is no longer a concern."""
    return [Observation(now, -math.inf if rule.high < math.inf else math.inf)]


def location_quantity(metric: Metric) -> Quantity:
    """The quantity a location rule's metric reads (lux: the light sensor's; else the temperature's)."""
    return "light" if metric == "lux" else "temperature"


def _location_readings(rule: Rule, scene: Scene) -> Subjects:
    """Each location's readings of the rule's quantity this batch (a location without vials, for a rule
    that watches only where vials are, reads as inside its bounds)."""
    out: Subjects = {}
    for loc in scene.locations.values():
        sensor = scene.site.sensor(loc.id, location_quantity(rule.metric))
        if sensor is None:
            continue
        series = scene.observed.get(sensor.key, [])
        if rule.only_where_vials and loc.id not in scene.holding:
            series = _inside(rule, scene.now)
        out[(loc.name, loc.id)] = series
    return out


def _active_vials(
    rule: Rule, scene: Scene, value: Callable[[exposure.VialPotency], Observation | None]
) -> Subjects:
    """Per vial, ``value`` of its potency; a vial no longer active reads as inside the bounds, and one for
    which ``value`` gives None is left out this batch."""
    out: Subjects = {}
    vials = vial_store.list_all(scene.conn)
    scene.evaluate([v for v in vials if v.status == "active"])  # every vial in one pass, not one by one
    for vial in vials:
        if vial.status != "active":
            out[(vial.key, vial.id)] = _inside(rule, scene.now)
            continue
        observation = value(scene.potency(vial))
        if observation is not None:
            out[(vial.key, vial.id)] = [observation]
    return out


def _potency_low_bound(rule: Rule, scene: Scene) -> Subjects:
    """Each active vial's potency, its low bound: an alert must not wait for the best estimate when the
    data cannot rule out the loss (the message says it is the low bound)."""

    def low_bound(p: exposure.VialPotency) -> Observation | None:
        if not scene.reporting(p.location_id):
            # Before its location's first reading nothing bounds the light there, so the low bound is
            # 0 %: a critical alert that the first reading would resolve seconds later (a serial site's
            # board connects after the bridge starts). The rule waits for data.
            return None
        return Observation(p.as_of, p.percent_range.low)

    return _active_vials(rule, scene, low_bound)


def _label_overrun(rule: Rule, scene: Scene) -> Subjects:
    """Minutes each active vial is past its label's time limit after reconstitution (-inf: none)."""

    def overrun(p: exposure.VialPotency) -> Observation:
        ttt = p.time_to_threshold
        deadline = None if ttt is None else ttt.label_deadline_ts
        return Observation(scene.now, -math.inf if deadline is None else (scene.now - deadline) / 60.0)

    return _active_vials(rule, scene, overrun)


def _silent_intervals(rule: Rule, scene: Scene) -> Subjects:
    """How many of its polling intervals each sensor has been silent for."""
    out: Subjects = {}
    for sensor in scene.sensors.values():
        last = scene.last_ts.get(sensor.key)
        age = math.inf if last is None else max(scene.now - last, 0.0)
        out[(sensor.key, sensor.id)] = [Observation(scene.now, age / sensor.interval_seconds)]
    return out


def _calibration_overdue(rule: Rule, scene: Scene) -> Subjects:
    """Days past each certified sensor's calibration due date (negative: days left)."""
    out: Subjects = {}
    for sensor in scene.sensors.values():
        if sensor.calibration_due_ts is not None:
            overdue = (scene.now - sensor.calibration_due_ts) / 86_400.0
            out[(sensor.key, sensor.id)] = [Observation(scene.now, overdue)]
    return out


def _faulted(rule: Rule, scene: Scene) -> Subjects:
    """1 for a sensor that failed a read this batch, 0 for one that gave a reading, nothing otherwise."""
    faulted = {f.sensor_key: f.ts for f in scene.batch.faults}
    out: Subjects = {}
    for sensor in scene.sensors.values():
        if sensor.key in faulted:
            out[(sensor.key, sensor.id)] = [Observation(faulted[sensor.key], 1.0)]
        elif scene.observed.get(sensor.key):
            out[(sensor.key, sensor.id)] = [Observation(scene.observed[sensor.key][-1].ts, 0.0)]
    return out


OBSERVERS: Mapping[Metric, Observe] = {
    "lux": _location_readings,
    "celsius": _location_readings,
    "potency_percent": _potency_low_bound,
    "label_overrun_minutes": _label_overrun,
    "silent_intervals": _silent_intervals,
    "calibration_overdue_days": _calibration_overdue,
    "faulted": _faulted,
}


def observe(rule: Rule, scene: Scene) -> Subjects:
    """Observations per subject ``(name shown in messages, id)`` for ``rule``."""
    return OBSERVERS[rule.metric](rule, scene)
