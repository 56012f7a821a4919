"""A vial's verdict: use, watch or do not use, the time it has left and why. One decision, shown everywhere.

What a pharmacist acts on is decided here and only here. The dashboard page, ``/api/v1/dashboard``,
``/api/v1/vials``, the vial report, ``vialguard vials list`` and ``vialguard predict`` show what
:func:`decide` returns, in the words of :meth:`VialVerdict.time_left_text`; none recomputes it.

The basis is the potency's **low bound**, the value the potency alerts read (``monitor.alerts.rules``): a
verdict must not wait for the best estimate when the data cannot rule out the loss. So:

- **do not use**: the low bound is below the critical threshold, or the vial was reconstituted and the
  label's limit after reconstitution (Rozebalamin: 60 min, photokinetics.md §4) has passed, or it was
  discarded;
- **watch**: the low bound is below the warning threshold;
- **use**: otherwise.

The time left is until the verdict becomes "do not use" if present conditions hold: the earlier of the low
bound's model time to the critical threshold and the label's deadline. It is 0 ("reached") once there,
and none for a vial no longer in stock. Pure: no IO, no clock; ``now`` is passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

Verdict = Literal["use", "watch", "do-not-use"]
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
# The words every surface prints, and the vial-monitor colour the dashboard paints.
LABELS: dict[Verdict, str] = {"use": "Use", "watch": "Watch", "do-not-use": "Do not use"}
Colour = Literal["green", "amber", "red"]
COLOURS: dict[Verdict, Colour] = {"use": "green", "watch": "amber", "do-not-use": "red"}

Basis = Literal["low bound"]
BASIS: Basis = "low bound"
LimitedBy = Literal["model", "label"]
EndKind = Literal["administered", "discarded", "handed-over"]
# How the verdict's reason names each way out of this site's stock.
ENDED_WORDS: dict[EndKind, str] = {
    "administered": "administered",
    "discarded": "discarded",
    "handed-over": "handed over to another site",
}

SECONDS_PER_HOUR = 3600.0
HOURS_PER_YEAR = 24.0 * 365.0


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Potency thresholds in % of label: below ``warning_percent`` watch, below ``critical_percent`` do not
    use (the rules' ``potency_warning_percent`` and ``potency_critical_percent``)."""

    warning_percent: float
    critical_percent: float


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the model says of one vial, as the verdict needs it."""

    low_percent: float  # the potency's low bound as of the data
    model_hours_low: float  # hours until the low bound reaches the critical threshold now; inf: never
    label_deadline_ts: float | None  # reconstitution time plus the label's limit
    ended: EndKind | None = None  # no longer in stock here: the evidence is as of then


@dataclass(frozen=True, slots=True)
class VialVerdict:
    verdict: Verdict
    basis: Basis
    basis_percent: float  # the low bound the verdict reads
    hours_left: float | None  # until "do not use" at present conditions; None: not at these, or not in stock
    limited_by: LimitedBy | None  # what sets ``hours_left``
    label_deadline_ts: float | None
    reason: str
    in_stock: bool

    @property
    def label(self) -> str:
        return LABELS[self.verdict]

    def facts(self) -> dict[str, object]:
        """Every field and the words derived from them, as the API and ``--json`` print them."""
        return {
            "verdict": self.verdict,
            "label": self.label,
            "colour": self.colour,
            "basis": self.basis,
            "basis_percent": round(self.basis_percent, 4),
            "hours_left": None if self.hours_left is None else round(self.hours_left, 4),
            "limited_by": self.limited_by,
            "label_deadline_ts": self.label_deadline_ts,
            "time_left": self.time_left_text(),
            "reason": self.reason,
            "in_stock": self.in_stock,
        }

    @property
    def colour(self) -> Colour:
        return COLOURS[self.verdict]

    def time_left_text(self) -> str:
        """The time left in words, the same on every surface."""
        if not self.in_stock:
            return "none: no longer in stock"
        if self.verdict == "do-not-use":
            return "reached: label limit passed" if self.limited_by == "label" else "reached"
        if self.hours_left is None:
            return "not reached at present conditions"
        if self.limited_by == "label":
            return f"{duration_text(self.hours_left)} (label limit after reconstitution)"
        if self.hours_left > HOURS_PER_YEAR:
            return "more than a year at present conditions"
        return f"{duration_text(self.hours_left)} at present conditions"


def duration_text(hours: float) -> str:
    """``45 s``, ``58 min``, ``5 h 12 min``, ``3 d 4 h``: total for any finite, non-negative hours."""
    seconds = max(hours, 0.0) * SECONDS_PER_HOUR
    if seconds < 60.0:
        return f"{seconds:.0f} s"
    minutes = math.floor(seconds / 60.0)
    if minutes < 60:
        return f"{minutes} min"
    h, m = divmod(minutes, 60)
    if h < 48:
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(h, 24)
    return f"{d} d {h} h" if h else f"{d} d"


def decide(evidence: Evidence, thresholds: Thresholds, now: float) -> VialVerdict:
    """The verdict on a vial at ``now`` from the model's ``evidence``."""
    low = evidence.low_percent
    deadline = evidence.label_deadline_ts
    if evidence.ended is not None:
        verdict: Verdict = "do-not-use" if evidence.ended == "discarded" else _by_potency(low, thresholds)
        return VialVerdict(
            verdict,
            BASIS,
            low,
            None,
            None,
            deadline,
            f"{ENDED_WORDS[evidence.ended]}; low bound {low:.1f} % of label then",
            in_stock=False,
        )
    label_hours = None if deadline is None else (deadline - now) / SECONDS_PER_HOUR
    if label_hours is not None and label_hours <= 0.0:
        overrun = -label_hours * 60.0
        return VialVerdict(
            "do-not-use",
            BASIS,
            low,
            0.0,
            "label",
            deadline,
            f"reconstituted and past the label's limit by {overrun:.0f} min: discard",
            in_stock=True,
        )
    verdict = _by_potency(low, thresholds)
    if verdict == "do-not-use":
        reason = f"low bound {low:.1f} % is below the critical {thresholds.critical_percent:g} % of label"
        return VialVerdict(verdict, BASIS, low, 0.0, "model", deadline, reason, in_stock=True)
    if verdict == "watch":
        reason = f"low bound {low:.1f} % is below the warning {thresholds.warning_percent:g} % of label"
    else:
        reason = f"low bound {low:.1f} % is at or above the warning {thresholds.warning_percent:g} % of label"
    model = evidence.model_hours_low
    hours: float | None = None if math.isinf(model) else max(model, 0.0)
    limited_by: LimitedBy | None = None if hours is None else "model"
    if label_hours is not None and (hours is None or label_hours < hours):
        hours, limited_by = label_hours, "label"
    return VialVerdict(verdict, BASIS, low, hours, limited_by, deadline, reason, in_stock=True)


def _by_potency(low_percent: float, thresholds: Thresholds) -> Verdict:
    # Strictly below, as the potency rules fire (``Rule.low``): the verdict and the alerts agree.
    if low_percent < thresholds.critical_percent:
        return "do-not-use"
    if low_percent < thresholds.warning_percent:
        return "watch"
    return "use"
