"""Vials moving between sites, as the API sees it: part of :class:`monitor.store.ports.Store`.

A hand-over records the vial leaving and returns the document that carries its state; a receipt registers
it from that document (:mod:`monitor.handover`, over the SQLite store's connection).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from monitor.handover import HandOver, Receipt
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.store.handovers import HandoverRecord
from monitor.store.vials import VialRecord


class VialMoves(Protocol):
    """Hand-overs to and from other sites."""

    def hand_over_vial(
        self,
        catalog: Catalog,
        vial: VialRecord,
        *,
        from_site: str,
        to_site: str,
        ts: float,
        now: float,
        thresholds: Thresholds,
        actor: str,
    ) -> HandOver:
        """Record that ``vial`` left for ``to_site`` at ``ts``, with its audit row by ``actor``; the
        hand-over document (:func:`monitor.handover_audited.hand_over`). Inside a transaction."""
        ...

    def receive_vial(
        self,
        catalog: Catalog,
        document: Mapping[str, Any],
        *,
        site: str,
        location: str,
        now: float,
        actor: str,
    ) -> Receipt:
        """Register the vial of a hand-over document at ``location``, with its audit row by ``actor``
        (:func:`monitor.handover_audited.receive`). Inside a transaction."""
        ...

    def vial_handovers(self, vial_ids: Sequence[int]) -> dict[int, list[HandoverRecord]]:
        """Each of the vials' hand-overs, out and in, in the order they happened; one query."""
        ...
