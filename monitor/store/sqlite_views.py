"""The views of the store interface (:mod:`monitor.store.view_ports`) on SQLite: what is computed from
history (a vial's potency, a location's conditions, the reports), each method a call to the module that
computes it. :class:`~monitor.store.sqlite_store.SqliteStore` inherits them and wraps them in its error
translation with its own methods.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from monitor import assessment, exposure, glance, reporting, series
from monitor import locations as location_summaries
from monitor.alerts.rules import RuleThresholds
from monitor.assessment import VialAssessment
from monitor.exposure import VialPotency
from monitor.glance import LocationGlance
from monitor.locations import LocationSummary
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.reporting import Excursion, LocationReport, VialReport
from monitor.series import LocationSeries, PotencyPoint
from monitor.store.ports import LocationRecord, VialRecord


class SqliteViews:
    """The computed views over ``conn``, for :class:`~monitor.store.sqlite_store.SqliteStore`."""

    conn: sqlite3.Connection

    # A vial's potency, computed from its history
    def assess(
        self, catalog: Catalog, vial: VialRecord, thresholds: Thresholds, now: float
    ) -> VialAssessment:
        return assessment.assess(self.conn, catalog, vial, thresholds, now=now)

    def assess_all(
        self, catalog: Catalog, vials: Iterable[VialRecord], thresholds: Thresholds, now: float
    ) -> list[VialAssessment]:
        return assessment.assess_all(self.conn, catalog, vials, thresholds, now=now)

    def vial_potency(self, catalog: Catalog, vial: VialRecord) -> VialPotency:
        return exposure.vial_potency(self.conn, catalog, vial)

    def potency_curve(
        self, catalog: Catalog, vial: VialRecord, points: int, *, with_events: bool = True
    ) -> tuple[PotencyPoint, ...]:
        return series.potency_curve(self.conn, catalog, vial, points, with_events=with_events)

    # A location's conditions
    def location_summary(self, location: LocationRecord) -> LocationSummary:
        return location_summaries.summarise(self.conn, location)

    def location_glance(
        self, location: LocationRecord, *, now: float, day_start: float, light_lux: float
    ) -> LocationGlance:
        return glance.location_glance(self.conn, location, now=now, day_start=day_start, light_lux=light_lux)

    def location_series(
        self, location: LocationRecord, start: float, end: float, buckets: int
    ) -> LocationSeries:
        return series.location_series(self.conn, location, start, end, buckets)

    # Reports
    def excursions(
        self, start: float, end: float, rules: RuleThresholds, location: LocationRecord | None
    ) -> list[Excursion]:
        return reporting.excursions(self.conn, start, end, rules, location)

    def location_report(
        self,
        location: LocationRecord,
        start: float,
        end: float,
        utc_offset_seconds: float,
        rules: RuleThresholds,
    ) -> LocationReport:
        return reporting.location_report(self.conn, location, start, end, utc_offset_seconds, rules)

    def vial_report(
        self, catalog: Catalog, vial: VialRecord, rules: RuleThresholds, now: float
    ) -> VialReport:
        return reporting.vial_report(self.conn, catalog, vial, rules, now=now)
