"""The site's PDF reports and a vial's potency alone, served by central under ``/sites/{site}/`` from its
PostgreSQL copy, are the site's own: the same report objects (days, excursions, openings, dose, MKT, gap
time, alerts; a vial's verdict, time left, basis, bounds, stays, curve and alerts) through the same store
interface, the same PDF text, and a refusal naming why where central does not hold the history a period
needs.

The running system is :mod:`tests.fleet.test_central_site_app`'s: a simulated site (an hour with a door
left open, a light sensor dropout, a vial moved to a room without sensors, one administered, one received
from another site) uplinking to a real ``vialguard central`` on PostgreSQL, its API and central's served
side by side at the site's clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import numpy as np
import psycopg
import pytest

from fleet.central.site_store import SiteStore
from monitor.model.profiles import Catalog
from monitor.reporting import AlertHistory, LocationReport, VialReport
from monitor.store.ports import Store
from tests.api.test_reports import needs_poppler, pdf_text
from tests.fleet.test_central_site_app import System, system
from tests.fleet.test_fleet_verdicts import HOUR, ROUNDED, SITE, _iso

pytestmark = pytest.mark.slow

__all__ = ["system"]  # the running system, one for this module

DAY = 86_400.0
R = TypeVar("R", LocationReport, VialReport)


def _same(ours: Any, theirs: Any, where: str) -> None:
    """Equal field by field, numbers to the last rounded digit (central's reading times are whole
    microseconds)."""
    if dataclasses.is_dataclass(theirs) and not isinstance(theirs, type):
        assert type(ours) is type(theirs), where
        for f in dataclasses.fields(theirs):
            _same(getattr(ours, f.name), getattr(theirs, f.name), f"{where}.{f.name}")
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert set(ours) == set(theirs), where
        for k in theirs:
            _same(ours[k], theirs[k], f"{where}[{k!r}]")
    elif isinstance(theirs, list | tuple):
        assert isinstance(ours, type(theirs)), where
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_allclose(ours, theirs, atol=ROUNDED, err_msg=where)
    elif isinstance(theirs, float) and not isinstance(ours, bool):
        assert ours == pytest.approx(theirs, abs=ROUNDED), where
    else:
        assert ours == theirs, where


def _as_held(ours: R, theirs: R) -> tuple[R, R]:
    """The two reports with the site's alerts as central holds them: each alert's changes from the uplink
    on (central's are the last of the site's) and its snapshot at the site. Neither is in a PDF."""
    assert [h.alert.id for h in ours.alerts] == [h.alert.id for h in theirs.alerts]
    held: list[AlertHistory] = []
    for mine, their in zip(ours.alerts, theirs.alerts, strict=True):
        assert mine.events, mine.alert.id
        assert mine.alert.snapshot != their.alert.snapshot  # central never receives it
        held.append(
            AlertHistory(
                dataclasses.replace(their.alert, snapshot=mine.alert.snapshot),
                their.events[-len(mine.events) :],
            )
        )
    return ours, dataclasses.replace(theirs, alerts=tuple(held))


@contextmanager
def stores(system: System) -> Iterator[tuple[Store, SiteStore]]:
    """The site's own store and central's for the site, each in one snapshot."""
    with (
        system.site.stores.session() as site,
        psycopg.connect(system.database_url, autocommit=True) as pg,
    ):
        central = SiteStore(pg, SITE)
        with site.snapshot(), central.snapshot():
            yield site, central


def _location_reports(
    system: System, key: str, start: float, end: float, offset_seconds: float
) -> tuple[LocationReport, LocationReport]:
    rules = system.site.settings.rules.thresholds()
    with stores(system) as (site, central):
        theirs = site.location_report(site.location(key), start, end, offset_seconds, rules)
        ours = central.location_report(central.location(key), start, end, offset_seconds, rules)
    return ours, theirs


def _midnight_offset_minutes(ts: float) -> int:
    """A UTC offset (minutes, as the API takes it) at which a local midnight falls within a minute of
    ``ts``: the report's days then split the simulated hour."""
    minutes = round((-ts % DAY) / 60.0)
    return minutes - 1440 if minutes > 840 else minutes


@pytest.mark.parametrize(
    ("key", "since_seconds", "split_days"),
    [
        ("fridge-1", 2 * DAY, False),
        ("fridge-1", 2 * DAY, True),
        ("fridge-1", 1_200.0, True),  # starts inside the data: the ledger read between two readings
        ("prep-room", DAY, False),  # no sensors: no days' data, no dose
    ],
    ids=["fridge-two-days", "fridge-midnight-inside", "fridge-last-20-min", "prep-room"],
)
def test_a_locations_report_is_the_sites(
    system: System, key: str, since_seconds: float, split_days: bool
) -> None:
    """A location's report at central holds the site's days (extremes, readings, dose, openings), its
    excursions with the site's limits, its openings, dose, MKT, time in gaps per sensor and alerts."""
    system.caught_up()
    now = system.site.clock.wall()
    offset = 60.0 * _midnight_offset_minutes(now - 1_800.0) if split_days else 0.0
    ours, theirs = _location_reports(system, key, now - since_seconds, now, offset)
    _same(*_as_held(ours, theirs), key)
    if key == "fridge-1" and since_seconds > HOUR:  # what the comparison covers
        assert theirs.alerts, "the door left open raises alerts"
        assert theirs.excursions
        assert theirs.lux_hours > 0
        assert theirs.mean_kinetic_temperature_celsius is not None
        assert theirs.gap_seconds["fridge-1-lux"] > 0, "the dropout is a gap"
        assert sum(d.temperature_readings for d in theirs.days) > 0
        if split_days:
            assert sum(1 for d in theirs.days if d.temperature_readings) == 2  # the hour spans two days


def _vial_reports(system: System, catalog: Catalog) -> list[tuple[VialReport, VialReport]]:
    rules = system.site.settings.rules.thresholds()
    now = system.site.clock.wall()
    with stores(system) as (site, central):
        return [
            (
                central.vial_report(catalog, central.vial(v.id), rules, now),
                site.vial_report(catalog, v, rules, now),
            )
            for v in site.vials()
        ]


def test_every_vials_report_is_the_sites(system: System, catalog: Catalog) -> None:
    """A vial's report at central is the site's for every vial: the verdict, time left, basis and bounds,
    the stays between its events with their dose, the potency curve, the alerts and the hand-overs."""
    system.caught_up()
    found = _vial_reports(system, catalog)
    assert len(found) == 5
    for ours, theirs in found:
        _same(*_as_held(ours, theirs), theirs.vial.key)
    by_key = {theirs.vial.key: theirs for _, theirs in found}
    # What the comparison covers: alerts on a vial, a gap under its light, a move, an end, a receipt.
    infusion = by_key["infusion-0001"]
    assert infusion.alerts, "its potency raises alerts"
    unseen = infusion.assessment.potency.uncertainty[0]  # the dropout, bounded at the highest lux seen
    assert unseen.startswith("sensor fridge-1-lux:")
    assert "h without data" in unseen
    assert {x.location.key for x in by_key["roze-0002"].exposure} == {"fridge-1", "prep-room"}
    assert by_key["methy-0001"].assessment.verdict.in_stock is False
    assert by_key["infusion-9001"].hand_overs
    assert len({(r.assessment.verdict.verdict, r.assessment.verdict.basis) for r in by_key.values()}) > 1


def test_every_vials_potency_alone_is_the_sites(system: System, catalog: Catalog) -> None:
    """A vial's potency on its own (as of its data, no clock) at central is the site's for every vial:
    best, bounds, dose, state and time left, what a hand-over carries."""
    system.caught_up()
    with stores(system) as (site, central):
        for v in site.vials():
            _same(central.vial_potency(catalog, central.vial(v.id)), site.vial_potency(catalog, v), v.key)


@needs_poppler
@pytest.mark.parametrize(
    "query", ["?days=2", "?days=1&utc_offset_minutes={midnight}"], ids=["utc", "midnight"]
)
def test_the_location_pdf_is_the_sites(system: System, tmp_path: Path, query: str) -> None:
    """Central serves the location's PDF as the site does: a PDF, its text the site's, the days and the
    gap time in it."""
    system.caught_up()
    query = query.format(midnight=_midnight_offset_minutes(system.site.clock.wall() - 1_800.0))
    path = f"/api/v1/reports/locations/fridge-1.pdf{query}"
    theirs = system.site.client.get(path)
    ours = system.get(path)
    assert theirs.status_code == ours.status_code == 200, ours.text
    assert ours.headers["content-type"] == "application/pdf"
    assert ours.headers["content-disposition"] == theirs.headers["content-disposition"]
    text = pdf_text(ours.content, tmp_path, "central")
    assert text == pdf_text(theirs.content, tmp_path, "site")
    assert "fridge-1-lux" in text  # its time in gaps


@needs_poppler
def test_every_vials_pdf_is_the_sites(system: System, tmp_path: Path) -> None:
    """Central serves each vial's PDF as the site does: a PDF, its text the site's, with the verdict."""
    system.caught_up()
    for v in system.site.client.get("/api/v1/vials").json():
        path = f"/api/v1/reports/vials/{v['id']}.pdf?utc_offset_minutes=60"
        theirs = system.site.client.get(path)
        ours = system.get(path)
        assert theirs.status_code == ours.status_code == 200, ours.text
        assert ours.headers["content-type"] == "application/pdf"
        text = pdf_text(ours.content, tmp_path, f"central-{v['key']}")
        assert text == pdf_text(theirs.content, tmp_path, f"site-{v['key']}"), v["key"]
        assert v["verdict"]["label"] in text
        assert v["verdict"]["time_left"] in text


def test_a_period_before_the_readings_central_holds_is_refused(system: System) -> None:
    """Readings central no longer holds (as its retention drops them) where the site's ledger had
    accumulated: a report over that time is a 501 naming the sensor and from when central holds it,
    never a dose counted from the first reading central has; a period within what it holds is answered."""
    system.caught_up()
    now = system.site.clock.wall()
    with psycopg.connect(system.database_url, autocommit=True) as pg:
        where = "site = %s AND sensor = 'fridge-1-lux' AND ts < to_timestamp(%s)"
        cut = now - 1_800.0
        pg.execute(f"CREATE TEMP TABLE kept AS SELECT * FROM light_readings WHERE {where}", (SITE, cut))
        pg.execute(f"DELETE FROM light_readings WHERE {where}", (SITE, cut))
        try:
            refused = system.get("/api/v1/reports/locations/fridge-1.pdf?days=1")
            assert refused.status_code == 501, refused.text
            detail = refused.json()["detail"]
            assert "central cannot give the site's location report" in detail
            assert "'fridge-1-lux''s readings only from" in detail
            period = urlencode({"start": _iso(cut + 60.0), "end": _iso(now)})
            within = system.get(f"/api/v1/reports/locations/fridge-1.pdf?{period}")
            assert within.status_code == 200, within.text
        finally:
            pg.execute("INSERT INTO light_readings SELECT * FROM kept")
    ours, theirs = _location_reports(system, "fridge-1", now - DAY, now, 0.0)
    assert ours.lux_hours == pytest.approx(theirs.lux_hours, abs=ROUNDED)  # all there again
