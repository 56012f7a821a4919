"""The views of the store interface (:mod:`monitor.store.view_ports`) at central, for one site: what is
computed from its history (a vial's potency and verdict, a location's conditions, the reports), each
method a call to the module that computes it (:mod:`fleet.central.site_views`,
:mod:`fleet.central.site_reports`, :mod:`fleet.central.site_series`) inside the error translation, as
:class:`monitor.store.sqlite_views.SqliteViews` is at the site.

The views that read the site's alert limits (the dashboard, the excursions, the reports) answer with the
site's own, or refuse (:class:`~fleet.central.site_refusals.CentralLacksIt`) when central lacks them:
with central's defaults they would look like the site's and differ.
"""

from __future__ import annotations

from collections.abc import Iterable

from fleet.central import site_reports, site_series, site_views
from fleet.central.site_records import SiteRecords, translated
from fleet.central.site_refusals import central_lacks
from monitor.alerts.rules import RuleThresholds
from monitor.assessment import VialAssessment
from monitor.exposure import VialPotency
from monitor.glance import LocationGlance, glance_of
from monitor.locations import LocationSummary
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.reporting import Excursion, LocationReport, VialReport
from monitor.series import LocationSeries, PotencyPoint
from monitor.store.sites import LocationRecord, SensorRecord
from monitor.store.vials import VialRecord


class SiteViews(SiteRecords):
    """The computed views over the site's records, for :class:`fleet.central.site_store.SiteStore`."""

    def _limits(self, what: str) -> None:
        """Refuse ``what`` if central lacks the site's alert limits (``lacks_limits`` says why)."""
        if self.lacks_limits is not None:
            central_lacks(self.site, what, f"it reads the site's alert limits and {self.lacks_limits}")

    # The views central computes: a vial's potency and verdict, a location's conditions
    def assess(
        self, catalog: Catalog, vial: VialRecord, thresholds: Thresholds, now: float
    ) -> VialAssessment:
        return self.assess_all(catalog, [vial], thresholds, now)[0]

    def assess_all(
        self, catalog: Catalog, vials: Iterable[VialRecord], thresholds: Thresholds, now: float
    ) -> list[VialAssessment]:
        with translated():
            return site_views.assess_all(self.conn, self.site, catalog, list(vials), thresholds, now)

    def vial_potency(self, catalog: Catalog, vial: VialRecord) -> VialPotency:
        with translated():
            return site_views.vial_potency(self.conn, self.site, catalog, vial)

    def potency_curve(
        self, catalog: Catalog, vial: VialRecord, points: int, *, with_events: bool = True
    ) -> tuple[PotencyPoint, ...]:
        with translated():
            return site_views.potency_curve(
                self.conn, self.site, catalog, vial, points, with_events=with_events
            )

    def location_summary(self, location: LocationRecord) -> LocationSummary:
        """Lux, temperature, cumulative dose and mean kinetic temperature now, as the site sums them."""
        light = self.primary_sensor(location.id, "light")
        temperature = self.primary_sensor(location.id, "temperature")
        lux_now = None if light is None else self.newest_reading(light)
        heat_now = None if temperature is None else self.newest_reading(temperature)
        tail = None if light is None else self.ledger_tail(light)
        return LocationSummary(
            location=location,
            as_of=max((x.ts for x in (lux_now, heat_now) if x is not None), default=None),
            lux=None if lux_now is None else lux_now.value,
            lux_saturated=False if lux_now is None else lux_now.saturated,
            celsius=None if heat_now is None else heat_now.value,
            cumulative_lux_hours=0.0 if tail is None else tail.cumulative,
            mean_kinetic_temperature_celsius=None
            if temperature is None or heat_now is None
            else self._mean_kinetic_temperature(temperature, heat_now.ts),
        )

    def _mean_kinetic_temperature(self, sensor: SensorRecord, end: float) -> float | None:
        with translated():
            return site_views.mean_kinetic_temperature(self.conn, self.site, sensor, end)

    # The views that read the site's alert limits: with the site's own, or refused (site_refusals)
    def location_glance(
        self, location: LocationRecord, *, now: float, day_start: float, light_lux: float
    ) -> LocationGlance:
        self._limits("dashboard (door openings, limits)")
        light = self.primary_sensor(location.id, "light")
        with translated():
            openings = site_reports.light_episodes(self.conn, self.site, light, day_start, now, light_lux)
        return glance_of(self.location_summary(location), openings, day_start=day_start, light_lux=light_lux)

    def excursions(
        self, start: float, end: float, rules: RuleThresholds, location: LocationRecord | None
    ) -> list[Excursion]:
        self._limits("excursion report")
        where = self.locations() if location is None else [location]
        with translated():
            return site_reports.excursions(
                self.conn, self.site, where, self.primary_sensor, start, end, rules
            )

    def location_series(
        self, location: LocationRecord, start: float, end: float, buckets: int
    ) -> LocationSeries:
        light = self.primary_sensor(location.id, "light")
        temperature = self.primary_sensor(location.id, "temperature")
        with translated():
            return site_series.location_series(
                self.conn, self.site, location, light, temperature, start, end, buckets
            )

    # The PDF reports' contents
    def location_report(
        self,
        location: LocationRecord,
        start: float,
        end: float,
        utc_offset_seconds: float,
        rules: RuleThresholds,
    ) -> LocationReport:
        self._limits("location report")
        sensors = [s for s in self.sensors() if s.location_id == location.id]
        ids = self.key_names()
        with translated():
            return site_reports.location_report(
                self.conn,
                self.site,
                location,
                sensors,
                self.primary_sensor,
                start,
                end,
                utc_offset_seconds,
                rules,
                ids,
            )

    def vial_report(
        self, catalog: Catalog, vial: VialRecord, rules: RuleThresholds, now: float
    ) -> VialReport:
        self._limits("vial report")
        found = site_reports.VialFacts(
            events=tuple(self.vial_events(vial.id)),
            hand_overs=tuple(self.vial_handovers([vial.id]).get(vial.id, [])),
            locations={loc.id: loc for loc in self.locations()},
            primary_sensor=self.primary_sensor,
            ids=self.key_names(),
        )
        with translated():
            return site_reports.vial_report(self.conn, self.site, catalog, vial, rules, now, found)
