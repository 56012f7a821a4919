"""What a vial received from another site brought with it, as the evaluation adds it.

A receipt's :class:`~monitor.model.inputs.PotencyState` holds the sums of the vial's life elsewhere up to
the hand-over; from its time on, each evaluation time adds them to this site's stretches (which
:func:`monitor.model.stretches.reach` counts only from the receipt on). Pure: inputs in, arrays out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from monitor.model.inputs import CarriedState, PotencyState, VialInputs
from monitor.model.kinetics import FloatArray


def sums(vials: Sequence[VialInputs], total: int) -> FloatArray:
    """Per evaluation time, the sums a receipt from another site carried in (zeros before any): the
    columns of :class:`PotencyState` in field order, ``unbounded`` as 0 or 1."""
    out = np.zeros((total, 10))
    offset = 0
    for vial in vials:
        n = len(vial.times)
        if vial.carried and n:
            states = np.array([[0.0] * 10] + [columns(c.state) for c in vial.carried], dtype=np.float64)
            received = np.array([c.ts for c in vial.carried], dtype=np.float64)
            # A time at a receipt or after takes its state: the stretches before are in it.
            out[offset : offset + n] = states[np.searchsorted(received, vial.times, side="right")]
        offset += n
    return out


def columns(state: PotencyState) -> list[float]:
    return [
        state.light_loss_best,
        state.light_loss_most,
        state.light_loss_least,
        state.thermal_hours_best,
        state.thermal_hours_low,
        state.thermal_hours_high,
        state.effective_lux_hours_best,
        state.effective_lux_hours_least,
        state.effective_lux_hours_most,
        float(state.unbounded),
    ]


def words(vial: VialInputs, reference: float) -> tuple[str, ...]:
    """What widened the bounds at the site the vial came from, for the state it carried in."""
    carried = [c for c in vial.carried if c.ts <= reference]
    if not carried:
        return ()
    last = carried[-1]
    return tuple(f"at {last.origin}, before the hand-over: {w}" for w in last.uncertainty)


def receipt(ts: float, origin: str, document: Mapping[str, Any]) -> CarriedState:
    """The state a hand-over document (checked when it was received) brought, received at ``ts`` from
    ``origin``: one reading of the document for the site's loader and central's alike."""
    s = document["state"]
    state = PotencyState(
        light_loss_best=float(s["light_loss_best"]),
        light_loss_most=float(s["light_loss_most"]),
        light_loss_least=float(s["light_loss_least"]),
        thermal_hours_best=float(s["thermal_hours_best"]),
        thermal_hours_low=float(s["thermal_hours_low"]),
        thermal_hours_high=float(s["thermal_hours_high"]),
        effective_lux_hours_best=float(s["effective_lux_hours_best"]),
        effective_lux_hours_least=float(s["effective_lux_hours_least"]),
        effective_lux_hours_most=float(s["effective_lux_hours_most"]),
        unbounded=bool(s["unbounded"]),
    )
    return CarriedState(ts, state, origin, tuple(str(w) for w in document.get("uncertainty", [])))
