"""A vial's potency with its verdict: what every surface shows of a vial, from one evaluation.

The potency model (:mod:`monitor.exposure`, one load and one vectorised pass for any number of vials)
gives best, low and high and the low bound's time to the critical threshold;
:func:`monitor.model.verdict.decide` turns that into the one verdict. Surfaces call :func:`assess` (or
:func:`assess_all` for many vials in one pass) and print its fields; none of them computes a status or a
time left of its own.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.alerts.rules import RuleThresholds
from monitor.exposure import VialPotency, vial_potencies
from monitor.model import verdict
from monitor.model.profiles import Catalog
from monitor.model.verdict import EndKind, Evidence, Thresholds, VialVerdict
from monitor.store.vials import VialRecord

_ENDED: dict[str, EndKind] = {
    "administered": "administered",
    "discarded": "discarded",
    "handed-over": "handed-over",
}


@dataclass(frozen=True, slots=True)
class VialAssessment:
    potency: VialPotency
    verdict: VialVerdict


def thresholds_of(rules: RuleThresholds) -> Thresholds:
    return Thresholds(rules.potency_warning_percent, rules.potency_critical_percent)


def evidence_of(p: VialPotency) -> Evidence:
    ttt = p.time_to_threshold
    return Evidence(
        low_percent=p.percent_range.low,
        model_hours_low=math.inf if ttt is None else ttt.hours_low,
        label_deadline_ts=None if ttt is None else ttt.label_deadline_ts,
        ended=_ENDED.get(p.vial.status),
    )


def assess(
    conn: sqlite3.Connection,
    catalog: Catalog,
    vial: VialRecord,
    thresholds: Thresholds,
    *,
    now: float,
    site: object | None = None,  # accepted from callers that shared lookups; one load needs none
) -> VialAssessment:
    """The vial's potency as of its latest data and its verdict at ``now`` (the system's clock)."""
    (one,) = assess_all(conn, catalog, [vial], thresholds, now=now)
    return one


def assess_all(
    conn: sqlite3.Connection,
    catalog: Catalog,
    vials: Iterable[VialRecord],
    thresholds: Thresholds,
    *,
    now: float,
) -> list[VialAssessment]:
    """:func:`assess` for each of ``vials``, from one load and one evaluation."""
    found = vial_potencies(conn, catalog, list(vials), threshold_percent=thresholds.critical_percent, now=now)
    return judged(found, thresholds, now)


def judged(potencies: Iterable[VialPotency], thresholds: Thresholds, now: float) -> list[VialAssessment]:
    """Each potency with its verdict at ``now``: the one decision, wherever the potency was computed
    (the site's SQLite, or central's PostgreSQL for the fleet)."""
    return [VialAssessment(p, verdict.decide(evidence_of(p), thresholds, now)) for p in potencies]
