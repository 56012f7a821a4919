"""Silences: matchers over an alert's labels, active between a start and an end. Pure.

A silence never stops an alert being recorded: the alert is stored, polled and shown as usual, flagged with
the silence that covers it, and webhooks say so. Matchers are exact label values, all of which must match;
the labels are the alert's ``rule``, ``severity``, ``alert_class``, ``location``, ``vial``, ``sensor`` (keys)
and ``fingerprint``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LABELS: tuple[str, ...] = ("rule", "severity", "alert_class", "location", "vial", "sensor", "fingerprint")


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    matchers: Mapping[str, str]
    starts_ts: float
    ends_ts: float

    def active(self, now: float) -> bool:
        return self.starts_ts <= now < self.ends_ts

    def matches(self, labels: Mapping[str, str | None]) -> bool:
        return all(labels.get(name) == value for name, value in self.matchers.items())


def check_matchers(matchers: Mapping[str, str]) -> None:
    """Raise ``ValueError`` naming the problem unless the matchers are usable."""
    if not matchers:
        raise ValueError("a silence needs at least one matcher; it would silence everything")
    unknown = sorted(set(matchers) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown matcher label(s) {', '.join(unknown)}; known: {', '.join(LABELS)}")


def covering(silences: Iterable[Silence], labels: Mapping[str, str | None], now: float) -> int | None:
    """The id of the earliest-created active silence matching ``labels``, or None."""
    for silence in sorted(silences, key=lambda s: s.id):
        if silence.active(now) and silence.matches(labels):
            return silence.id
    return None
