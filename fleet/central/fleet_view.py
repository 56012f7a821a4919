"""The fleet's vials with their verdicts, computed at central as each site computes them.

Per site: its configuration and vials from central's tables, one load (:mod:`fleet.central.model_inputs`),
one evaluation (:func:`monitor.model.evaluation.evaluate`) and the one decision
(:func:`monitor.assessment.judged`, :func:`monitor.model.verdict.decide`) with the site's own thresholds,
at the site's clock. A vial central cannot evaluate as the site would carries no verdict and the reason;
so does every vial of a site whose settings central lacks, which adds its own drug profiles, or which
runs another version of the model code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from fleet.central import model_inputs, site_config
from fleet.central.site_config import SiteLocation
from monitor.assessment import judged
from monitor.exposure import named
from monitor.model import evaluation
from monitor.model.bounds import Interval
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


def site_vials(
    conn: Connection, catalog: Catalog, facts: SiteFacts, now: float, code: str | None = None
) -> list[FleetVial]:
    """Every vial of the site (in the site's order) as of its latest data at central, judged at ``now``
    (the site's clock); ``code``: central's version (default: read from the installed package)."""
    site = facts.site
    located = site_config.locations(conn, site)
    records = site_config.vials(conn, site)
    return _judged(conn, catalog, facts, now, version() if code is None else code, located, records)


def _judged(
    conn: Connection,
    catalog: Catalog,
    facts: SiteFacts,
    now: float,
    code: str,
    located: dict[int, SiteLocation],
    records: list[VialRecord],
) -> list[FleetVial]:
    """The site's vials ``records`` at its locations ``located``, judged as :func:`site_vials` says."""
    site = facts.site
    refusal = refusal_of_site(facts, code)
    if refusal is not None or facts.thresholds is None:
        return [
            FleetVial(site, v.key, v.drug, v.form, v.status, None, None, None, None, None, refusal)
            for v in records
        ]
    thresholds = facts.thresholds
    loaded = model_inputs.load(conn, catalog, site, records, located, facts.report_lag_seconds, now=now)
    found = evaluation.evaluate(loaded.inputs, catalog, thresholds.critical_percent)
    assessed = judged([named(v, e) for v, e in zip(loaded.vials, found, strict=True)], thresholds, now)
    by_key: dict[str, FleetVial] = {}
    for a in assessed:
        p = a.potency
        where = None if p.location_id is None else located[p.location_id].key
        by_key[p.vial.key] = FleetVial(
            site,
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
        v = next(v for v in records if v.key == r.vial_key)
        by_key[v.key] = FleetVial(
            site, v.key, v.drug, v.form, v.status, None, None, None, None, None, r.reason
        )
    return [by_key[v.key] for v in records]


def fleet_vials(
    conn: Connection,
    catalog: Catalog,
    central_now: float,
    *,
    site: str | None = None,
    at: float | None = None,
    clock: Callable[[SiteFacts, float], float] = site_clock,
) -> list[FleetVial]:
    """Every site's vials (or ``site``'s), each site judged at ``at`` or at its own clock."""
    code = version()  # read once: it is the installed package's metadata
    chosen = [facts for facts in site_facts(conn).values() if site is None or facts.site == site]
    # Every chosen site's configuration in three statements, not three a site: at hundreds of sites those
    # round trips were a quarter of the list's time (bench/bench_fleet_view.py).
    names = [facts.site for facts in chosen]
    located, records = site_config.locations_of(conn, names), site_config.vials_of(conn, names)
    out: list[FleetVial] = []
    for facts in chosen:
        now = clock(facts, central_now) if at is None else at
        out += _judged(conn, catalog, facts, now, code, located[facts.site], records[facts.site])
    return out
