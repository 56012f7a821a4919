"""The words the alerts speak, defined once: severities, states and classes.

The store's CHECK constraints (:mod:`monitor.store.schema`), the rules, the lifecycle, the API's schemas
and query parameters and the metrics all take them from here, so a word cannot mean one thing in one
place and be missing from another.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)  # in the order an alert escalates

AlertState = Literal["pending", "firing", "acknowledged", "resolved"]
ALERT_STATES: tuple[AlertState, ...] = get_args(AlertState)

AlertClass = Literal["data", "sensor-trust", "system"]
ALERT_CLASSES: tuple[AlertClass, ...] = get_args(AlertClass)


def sql_in(words: Iterable[str]) -> str:
    """``('a', 'b')``: the words as an SQL list, for a CHECK constraint."""
    return "(" + ", ".join(f"'{w}'" for w in words) + ")"
