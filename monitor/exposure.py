"""A vial's potency from its events and its locations' ledgers, with bounds and the time it has left.

A vial's life is cut into stretches at each event (moved, packaging changed, reconstituted); each takes
the dose its location's ledger accumulated between the stretch's ends, the location's lamp spectrum
factor κ_s (measured, where a spectral or UV sensor is there) and the packaging's τ_pkg (photokinetics.md
§7). Because the ledger is cumulative and events carry their true times, an event recorded after the
fact, or readings that arrive late, give the right answer on the next evaluation. The bounds take the
sensor's calibration uncertainty, the light it did not see (gaps and saturated readings, bounded by the
location's worst-case lux) and the profile's parameter ranges.

The numbers are :func:`monitor.model.evaluation.evaluate`'s, from one load
(:func:`monitor.store.model_inputs.load`); this module names them for the surfaces, with the vial's record.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.model import evaluation
from monitor.model.bounds import Interval
from monitor.model.inputs import PotencyState
from monitor.model.profiles import Catalog
from monitor.model.time_left import TimeToThreshold
from monitor.store import model_inputs
from monitor.store.vials import VialRecord

__all__ = [
    "DEFAULT_THRESHOLD_PERCENT",
    "TimeToThreshold",
    "VialPotency",
    "named",
    "vial_potencies",
    "vial_potency",
]

# What the time left of a potency asked without the site's thresholds counts to (:func:`vial_potency`):
# a store's potency view, which central computes from its copy with the same default.
DEFAULT_THRESHOLD_PERCENT = 90.0


@dataclass(frozen=True, slots=True)
class VialPotency:
    vial: VialRecord
    as_of: float
    percent: float
    effective_lux_hours: float
    location_id: int | None
    packaging: str | None
    percent_range: Interval
    effective_lux_hours_range: Interval
    lamp: str | None
    reconstituted_ts: float | None
    uncertainty: tuple[str, ...]  # what widened the bounds, in words
    time_to_threshold: TimeToThreshold | None  # None once administered or discarded
    state: PotencyState  # the model's sums as of ``as_of``: what a hand-over carries to another site


def named(vial: VialRecord, e: evaluation.VialEvaluation) -> VialPotency:
    """The model's evaluation of ``vial`` named for the surfaces (central's loader names its own)."""
    return VialPotency(
        vial=vial,
        as_of=e.as_of,
        percent=e.percent.best,
        effective_lux_hours=e.effective_lux_hours.best,
        location_id=e.location_id,
        packaging=e.packaging,
        percent_range=e.percent,
        effective_lux_hours_range=e.effective_lux_hours,
        lamp=e.lamp,
        reconstituted_ts=e.reconstituted_ts,
        uncertainty=e.uncertainty,
        time_to_threshold=e.time_to_threshold,
        state=e.state,
    )


def vial_potencies(
    conn: sqlite3.Connection,
    catalog: Catalog,
    vials: Sequence[VialRecord],
    *,
    threshold_percent: float = DEFAULT_THRESHOLD_PERCENT,
    now: float | None = None,
    as_of: float | None = None,
) -> list[VialPotency]:
    """Each vial's potency at ``as_of`` (default: its latest data), best, low and high, and its time left,
    from one load and one evaluation.

    ``now`` (default ``as_of``) is the wall-clock time the label's limit after reconstitution counts to:
    that limit runs whether or not readings have arrived. With ``now`` and the default ``as_of``, time
    after the newest reading that the sensor should have covered (a silent sensor) widens the low bound:
    the best estimate stays as of the data, but the data cannot rule out light since.
    """
    if not vials:
        return []
    inputs = model_inputs.load(conn, catalog, vials, now=now, as_of=as_of)
    found = evaluation.evaluate(inputs, catalog, threshold_percent)
    return [named(v, e) for v, e in zip(vials, found, strict=True)]


def vial_potency(
    conn: sqlite3.Connection,
    catalog: Catalog,
    vial: VialRecord,
    as_of: float | None = None,
    threshold_percent: float = DEFAULT_THRESHOLD_PERCENT,
    now: float | None = None,
    site: object | None = None,  # accepted from callers that shared lookups; one load needs none
) -> VialPotency:
    """One vial's :func:`vial_potencies`."""
    (one,) = vial_potencies(conn, catalog, [vial], threshold_percent=threshold_percent, now=now, as_of=as_of)
    return one
