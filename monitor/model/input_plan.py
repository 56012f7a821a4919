"""What a load must read, worked out from the vials' events and their locations' newest light readings.

A loader reads in two steps: first the vials' events and, for every location they have been in, its
sensors and newest readings; then only what the evaluation will ask: each location's ledgers at the ends
of the stretches cut at the evaluation times, and the raw temperature series where a drug's activation
energy is not the ledger's. :func:`plan` is the step between, pure, shared by every loader (the site's
SQLite, :mod:`monitor.store.model_inputs`, and central's PostgreSQL, ``fleet/central/model_inputs.py``),
so the same vials at the same data are evaluated at the same times wherever they are loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from monitor.model import dose_ranges, stretches
from monitor.model.inputs import CarriedState, EventFacts, VialInputs
from monitor.model.kinetics import FloatArray
from monitor.model.profiles import Catalog


class VialFacts(Protocol):
    """What the plan reads of a vial's record (``monitor.store.vials.VialRecord`` has it)."""

    @property
    def id(self) -> int: ...
    @property
    def drug(self) -> str: ...
    @property
    def form(self) -> str: ...
    @property
    def initial_potency_percent(self) -> float: ...
    @property
    def registered_ts(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Plan:
    vials: tuple[VialInputs, ...]
    cuts: Mapping[int, list[tuple[float, float]]]  # per location visited: (start, end), sorted, distinct
    series: frozenset[int]  # locations whose raw temperature series a drug needs

    def times(self, location_id: int) -> list[float]:
        """The times the location's ledgers are asked at: the ends of its cuts, sorted."""
        return sorted({t for cut in self.cuts[location_id] for t in cut})


def plan(
    catalog: Catalog,
    vials: Sequence[VialFacts],
    events: Mapping[int, tuple[EventFacts, ...]],
    newest_light: Mapping[int, float | None],
    has_light: Mapping[int, bool],
    *,
    now: float | None = None,
    as_of: float | None = None,
    curve_points: int | None = None,
    curve_events: bool = True,
    times: FloatArray | None = None,
    carried: Mapping[int, tuple[CarriedState, ...]] | None = None,
) -> Plan:
    """Each vial's evaluation times and the cuts its locations' ledgers will be asked for.

    ``events`` per vial id in time order; ``newest_light`` and ``has_light`` per location visited. The
    options are :func:`monitor.store.model_inputs.load`'s; ``carried`` per vial id, the states it brought
    from the sites it was handed over from."""
    if times is not None:
        as_of = float(times[-1])
    planned: list[VialInputs] = []
    for vial in vials:
        mine = events[vial.id]
        when = (
            stretches.default_as_of(vial.registered_ts, mine, newest_light, has_light)
            if as_of is None
            else as_of
        )
        if times is not None:
            evaluated = np.asarray(times, dtype=np.float64)
        elif curve_points is not None:
            evaluated = stretches.curve_times(
                vial.registered_ts, when, mine, curve_points, with_events=curve_events
            )
        else:
            evaluated = np.array([when])
        silent = as_of is None and now is not None and now > when and stretches.ended(mine) is None
        planned.append(
            VialInputs(
                id=vial.id,
                drug=vial.drug,
                form=vial.form,
                initial_potency_percent=vial.initial_potency_percent,
                registered_ts=vial.registered_ts,
                events=mine,
                times=evaluated,
                as_of=when,
                now=now,
                silence_from=when if silent else None,
                carried=() if carried is None else carried.get(vial.id, ()),
            )
        )
    needed: dict[int, set[tuple[float, float]]] = {i: set() for i in newest_light}
    series: set[int] = set()
    for vial_inputs in planned:
        vial_cuts = stretches.cuts(vial_inputs)
        for loc_id, start, end in vial_cuts:
            needed[loc_id].add((start, end))
        if dose_ranges.needs_temperature_series(catalog.drug(vial_inputs.drug)):
            series |= {loc_id for loc_id, _, _ in vial_cuts}
    return Plan(tuple(planned), {i: sorted(c) for i, c in needed.items()}, frozenset(series))


def visited(events: Mapping[int, tuple[EventFacts, ...]]) -> list[int]:
    """The locations any of the vials has been in, sorted."""
    return sorted({e.location_id for es in events.values() for e in es if e.location_id is not None})
