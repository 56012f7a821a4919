"""Auto-ranging shared by the light sensors: walk a ladder of settings until the count is usable.

A reading is usable when it is below the overflow margin (or at the least sensitive setting) and above
the resolution floor (or at the most sensitive setting). At the least sensitive setting an overflow is
returned as saturated: the caller reports its lux as a lower bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ranged:
    counts: int
    step: int
    saturated: bool


def auto_range(
    step: int,
    last_step: int,
    read: Callable[[], int],
    apply: Callable[[int], None],
    ceiling: Callable[[int], int],
    low_counts: int,
    high_fraction: float = 0.8,
) -> Ranged:
    """Read at ``step``, moving down on (near) overflow and up on too few counts; at most one pass."""
    counts = read()
    for _ in range(last_step + 1):
        top = ceiling(step)
        if counts > high_fraction * top and step > 0:
            step -= 1
        elif counts < low_counts and step < last_step:
            step += 1
        else:
            break
        apply(step)
        counts = read()
    return Ranged(counts, step, counts >= ceiling(step))
