"""The fleet's vials with their verdicts, computed at central as each site computes them.

Load, then compute: every site's configuration and vials from central's tables and the model's inputs,
in a fixed number of statements for the whole fleet (:func:`load`, :mod:`fleet.central.model_inputs`);
then, from the loads alone, one evaluation of every site's vials (:func:`monitor.model.evaluation.
evaluate`) and per site the one decision (:func:`monitor.assessment.judged`,
:func:`monitor.model.verdict.decide`) with the site's own thresholds, at the site's clock (:func:`judge`).
A vial central cannot evaluate as the site would carries no verdict and the reason; so does every vial
of a site whose settings central lacks, which adds its own drug profiles, or which runs another version
of the model code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from fleet.central import model_inputs, site_config
from monitor.assessment import judged
from monitor.exposure import named
from monitor.model import evaluation
from monitor.model.bounds import Interval
from monitor.model.inputs import ModelInputs
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds, VialVerdict
from monitor.store.vials import VialRecord
from monitor.version import version

Connection = psycopg.Connection[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class FleetVial:
    site: str
    key: str
    drug: str
    form: str
    status: str
    location: str | None  # where it is now, as the model reads its events
    packaging: str | None
    as_of: float | None  # the data's time the potency is as of
    potency_percent: Interval | None  # best, low, high
    verdict: VialVerdict | None
    refused: str | None  # why central gives no verdict (None: it gives one)


@dataclass(frozen=True, slots=True)
class SiteFacts:
    site: str
    online: bool
    clock_skew_seconds: float | None
    report_lag_seconds: float
    thresholds: Thresholds | None
    drug_profiles_sha256: str | None
    vialguard_version: str | None
    # The site's [rules] besides the thresholds (monitor.alerts.rules.alert_limits), by name; None: not
    # sent yet (a site before its migration 23), so the views reading them refuse.
    rule_limits: tuple[tuple[str, float], ...] | None = None


def site_facts(conn: Connection) -> dict[str, SiteFacts]:
    rows = conn.execute(
        "SELECT s.site, s.online, s.clock_skew_seconds, coalesce(t.report_lag_seconds, 0),"
        " t.potency_warning_percent, t.potency_critical_percent, t.drug_profiles_sha256, t.vialguard_version,"
        " t.rule_limits FROM sites AS s LEFT JOIN site_settings AS t ON t.site = s.site ORDER BY s.site"
    ).fetchall()
    return {
        site: SiteFacts(
            site,
            bool(online),
            skew,
            float(lag),
            None if warning is None or critical is None else Thresholds(float(warning), float(critical)),
            digest,
            code,
            None if limits is None else tuple(sorted((str(k), float(v)) for k, v in limits.items())),
        )
        for site, online, skew, lag, warning, critical, digest, code, limits in rows
    }


def refusal_of_site(facts: SiteFacts, code: str) -> str | None:
    if facts.thresholds is None:
        return "central has not received the site's settings (its verdict thresholds)"
    if facts.drug_profiles_sha256 is not None:
        return (
            f"the site adds its own drug profiles (sha256 {facts.drug_profiles_sha256[:12]}…), which"
            " central does not hold"
        )
    if facts.vialguard_version != code:
        return (
            f"the site runs vialguard {facts.vialguard_version}, central {code}: central evaluates only"
            " with the site's own model code"
        )
    return None


def site_clock(facts: SiteFacts, central_now: float) -> float:
    """The site's clock as central best knows it: central's, less the skew it last measured (transit
    included, a fraction of a second on a working network)."""
    return central_now - (facts.clock_skew_seconds or 0.0)


@dataclass(frozen=True, slots=True)
class SiteLoad:
    """One site's part of the list as loaded: its vials, the clock they are judged at, and the model's
    inputs, or why central evaluates none of them (``refused``)."""

    facts: SiteFacts
    records: tuple[VialRecord, ...]  # the site's order
    now: float
    refused: str | None
    loaded: model_inputs.CentralInputs | None  # None when refused


def load(
    conn: Connection,
    catalog: Catalog,
    chosen: Sequence[SiteFacts],
    now: Callable[[SiteFacts], float],
    code: str,
) -> list[SiteLoad]:
    """Every ``chosen`` site's vials with the model's inputs at the site's clock ``now(facts)``: the
    configuration in three statements and the inputs in ten, whatever the number of sites (a site at a
    time, the round trips grew with the fleet: ``bench/bench_fleet_view.py``)."""
    names = [facts.site for facts in chosen]
    located, records = site_config.locations_of(conn, names), site_config.vials_of(conn, names)
    refusals = {facts.site: refusal_of_site(facts, code) for facts in chosen}
    asks = [
        model_inputs.SiteAsk(
            facts.site, records[facts.site], located[facts.site], facts.report_lag_seconds, now(facts)
        )
        for facts in chosen
        if refusals[facts.site] is None
    ]
    loaded = {
        ask.site: found for ask, found in zip(asks, model_inputs.load_sites(conn, catalog, asks), strict=True)
    }
    return [
        SiteLoad(
            facts,
            tuple(records[facts.site]),
            now(facts),
            refusals[facts.site],
            loaded.get(facts.site),
        )
        for facts in chosen
    ]


def judge(loads: Sequence[SiteLoad], catalog: Catalog) -> list[FleetVial]:
    """Every loaded site's vials judged, from the loads alone: the model evaluates every site's vials in
    one pass per critical threshold (the sites' locations are numbered apart, so their inputs join), and
    each site's verdicts are the one decision with its own thresholds at its own clock."""
    groups: dict[float, list[SiteLoad]] = {}
    for site in loads:
        if site.loaded is not None and site.facts.thresholds is not None:
            groups.setdefault(site.facts.thresholds.critical_percent, []).append(site)
    found: dict[str, list[evaluation.VialEvaluation]] = {}
    for critical, members in groups.items():
        joined = ModelInputs(
            vials=tuple(v for m in members if m.loaded for v in m.loaded.inputs.vials),
            locations={i: loc for m in members if m.loaded for i, loc in m.loaded.inputs.locations.items()},
        )
        results = iter(evaluation.evaluate(joined, catalog, critical))
        for m in members:
            assert m.loaded is not None  # grouped above only when loaded
            found[m.facts.site] = [next(results) for _ in m.loaded.inputs.vials]
    out: list[FleetVial] = []
    for site in loads:
        out += _judged(site, found.get(site.facts.site, []))
    return out


def _judged(site: SiteLoad, found: Sequence[evaluation.VialEvaluation]) -> list[FleetVial]:
    """The site's vials in its order, with ``found`` (the evaluations of its loaded vials)."""
    name, loaded, thresholds = site.facts.site, site.loaded, site.facts.thresholds
    if site.refused is not None or loaded is None or thresholds is None:
        return [
            FleetVial(name, v.key, v.drug, v.form, v.status, None, None, None, None, None, site.refused)
            for v in site.records
        ]
    assessed = judged([named(v, e) for v, e in zip(loaded.vials, found, strict=True)], thresholds, site.now)
    by_key: dict[str, FleetVial] = {}
    for a in assessed:
        p = a.potency
        where = None if p.location_id is None else loaded.located[p.location_id].key
        by_key[p.vial.key] = FleetVial(
            name,
            p.vial.key,
            p.vial.drug,
            p.vial.form,
            p.vial.status,
            where,
            p.packaging,
            p.as_of,
            p.percent_range,
            a.verdict,
            None,
        )
    for r in loaded.refused:
        v = next(v for v in site.records if v.key == r.vial_key)
        by_key[v.key] = FleetVial(
            name, v.key, v.drug, v.form, v.status, None, None, None, None, None, r.reason
        )
    return [by_key[v.key] for v in site.records]


def site_vials(
    conn: Connection, catalog: Catalog, facts: SiteFacts, now: float, code: str | None = None
) -> list[FleetVial]:
    """Every vial of the site (in the site's order) as of its latest data at central, judged at ``now``
    (the site's clock); ``code``: central's version (default: read from the installed package)."""
    found = load(conn, catalog, [facts], lambda _: now, version() if code is None else code)
    return judge(found, catalog)


def fleet_vials(
    conn: Connection,
    catalog: Catalog,
    central_now: float,
    *,
    site: str | None = None,
    at: float | None = None,
    clock: Callable[[SiteFacts, float], float] = site_clock,
) -> list[FleetVial]:
    """Every site's vials (or ``site``'s), each site judged at ``at`` or at its own clock: loaded first,
    every site at once (:func:`load`), then judged from the loads alone (:func:`judge`)."""
    code = version()  # read once: it is the installed package's metadata
    chosen = [facts for facts in site_facts(conn).values() if site is None or facts.site == site]
    loads = load(conn, catalog, chosen, lambda facts: clock(facts, central_now) if at is None else at, code)
    return judge(loads, catalog)
