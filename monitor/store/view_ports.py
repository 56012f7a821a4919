"""The store's views as the API sees them: what is computed from history (a vial's potency and verdict, a
location's conditions, the reports), part of :class:`monitor.store.ports.Store`.

The SQLite implementation answers each from one load of arrays (:mod:`monitor.store.model_inputs`) and the
pure model (:mod:`monitor.model.evaluation`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from monitor.alerts.rules import RuleThresholds
from monitor.assessment import VialAssessment
from monitor.exposure import VialPotency
from monitor.glance import LocationGlance
from monitor.locations import LocationSummary
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.reporting import Excursion, LocationReport, VialReport
from monitor.series import LocationSeries, PotencyPoint
from monitor.store.sites import LocationRecord
from monitor.store.vials import VialRecord


class VialViews(Protocol):
    """A vial's potency and verdict, computed from its history."""

    def assess(
        self, catalog: Catalog, vial: VialRecord, thresholds: Thresholds, now: float
    ) -> VialAssessment:
        """The vial's potency as of its latest data and its verdict at ``now``."""
        ...

    def assess_all(
        self, catalog: Catalog, vials: Iterable[VialRecord], thresholds: Thresholds, now: float
    ) -> list[VialAssessment]:
        """:meth:`assess` for each of ``vials``, in their order, in one pass."""
        ...

    def vial_potency(self, catalog: Catalog, vial: VialRecord) -> VialPotency:
        """The vial's potency as of its latest data."""
        ...

    def potency_curve(
        self, catalog: Catalog, vial: VialRecord, points: int, *, with_events: bool = True
    ) -> tuple[PotencyPoint, ...]:
        """The potency at ``points`` times from registration to the latest data, and (``with_events``) at
        each event, from one load and one evaluation."""
        ...


class LocationViews(Protocol):
    """A location's conditions now, today and over a window."""

    def location_summary(self, location: LocationRecord) -> LocationSummary:
        """Lux, temperature, cumulative dose and mean kinetic temperature now."""
        ...

    def location_glance(
        self, location: LocationRecord, *, now: float, day_start: float, light_lux: float
    ) -> LocationGlance:
        """The summary with the light's state and the door openings since ``day_start``."""
        ...

    def location_series(
        self, location: LocationRecord, start: float, end: float, buckets: int
    ) -> LocationSeries:
        """Lux, temperature and dose over ``[start, end]`` in ``buckets``; ValueError unless end > start."""
        ...


class ReportStore(Protocol):
    """The reports' contents: excursions, a location's period, a vial's life."""

    def excursions(
        self, start: float, end: float, rules: RuleThresholds, location: LocationRecord | None
    ) -> list[Excursion]:
        """Temperature and light excursions over the period, at one location or all."""
        ...

    def location_report(
        self,
        location: LocationRecord,
        start: float,
        end: float,
        utc_offset_seconds: float,
        rules: RuleThresholds,
    ) -> LocationReport:
        """The location's storage report over the period, days counted at the UTC offset."""
        ...

    def vial_report(
        self, catalog: Catalog, vial: VialRecord, rules: RuleThresholds, now: float
    ) -> VialReport:
        """The vial's exposure between its events, its potency curve, its verdict and its alerts."""
        ...
