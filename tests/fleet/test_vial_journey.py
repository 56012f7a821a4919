"""A vial's stays at each site are joined by the hand-over documents' checksums, whatever the order of
the sites' own event ids, into one site's events: each receipt a move at the hand-over's time."""

from __future__ import annotations

from fleet.central.vial_journey import HandoverRow, SiteEvent, join, stays_at, whole_life_events
from monitor.model.inputs import EventFacts

T = 1_000.0


def _ids(site: str, key: str) -> int:
    return {("a", "fridge"): 1, ("b", "cabinet"): 2, ("a", "bench"): 3}[(site, key)]


def _a_to_b(a_ids: tuple[int, int], b_ids: tuple[int, int]) -> tuple[list[SiteEvent], list[SiteEvent]]:
    a = [
        SiteEvent(a_ids[0], 0.0, "registered", "fridge", "in-carton"),
        SiteEvent(a_ids[1], T, "handed-over", None, None),
    ]
    b = [
        SiteEvent(b_ids[0], T, "received", "cabinet", "in-carton"),
        SiteEvent(b_ids[1], T + 50, "moved", "cabinet", None),
    ]
    return a, b


def test_a_receipt_with_a_smaller_id_than_its_hand_over_still_follows_it() -> None:
    """Site B's receipt has id 1, site A's hand-over id 900, at the same instant: the life goes A, then
    B, and the pair is one move at the hand-over's time."""
    a, b = _a_to_b((899, 900), (1, 2))
    stays = stays_at("a", a, [HandoverRow(900, "out", T, "b", "sha256:x")])
    stays += stays_at("b", b, [HandoverRow(1, "in", T, "a", "sha256:x")])
    journey = join("v", list(reversed(stays)))
    assert journey.broken is None
    assert [s.site for s in journey.stays] == ["a", "b"]
    assert journey.in_transit_to is None
    assert whole_life_events(journey, _ids) == (
        EventFacts(0.0, "registered", 1, "in-carton"),
        EventFacts(T, "moved", 2, "in-carton"),
        EventFacts(T + 50, "moved", 2, None),
    )


def test_a_vial_handed_back_has_three_stays() -> None:
    """A to B and back to A: the copy of a reconstitution B made from the document is no stay's."""
    a = [
        SiteEvent(1, 0.0, "registered", "fridge", "in-carton"),
        SiteEvent(2, 10.0, "reconstituted", None, None),
        SiteEvent(3, T, "handed-over", None, None),
        SiteEvent(4, 2 * T, "received", "bench", "in-carton"),
    ]
    b = [
        SiteEvent(1, 10.0, "reconstituted", None, None),
        SiteEvent(2, T, "received", "cabinet", "in-carton"),
        SiteEvent(3, 2 * T, "handed-over", None, None),
    ]
    stays = stays_at("a", a, [HandoverRow(3, "out", T, "b", "x"), HandoverRow(4, "in", 2 * T, "b", "y")])
    stays += stays_at("b", b, [HandoverRow(2, "in", T, "a", "x"), HandoverRow(3, "out", 2 * T, "a", "y")])
    journey = join("v", stays)
    assert [(s.site, s.start_ts, s.end_ts) for s in journey.stays] == [
        ("a", 0.0, T),
        ("b", T, 2 * T),
        ("a", 2 * T, None),
    ]
    kinds = [(e.ts, e.kind, e.location_id) for e in whole_life_events(journey, _ids)]
    assert kinds == [
        (0.0, "registered", 1),
        (10.0, "reconstituted", None),
        (T, "moved", 2),
        (2 * T, "moved", 3),
    ]


def test_a_hand_over_not_yet_received_ends_the_life_in_transit() -> None:
    """Without the receipt central holds the hand-over as the end: evaluated up to it, as the sender."""
    a, _ = _a_to_b((1, 2), (1, 2))
    journey = join("v", stays_at("a", a, [HandoverRow(2, "out", T, "b", "x")]))
    assert journey.broken is None
    assert journey.in_transit_to == "b"
    assert whole_life_events(journey, _ids)[-1] == EventFacts(T, "handed-over", None, None)


def test_a_receipt_whose_hand_over_central_lacks_breaks_the_life() -> None:
    """A receipt joined to no hand-over (the sender's rows not yet at central) is a refusal, not a guess;
    with no registration anywhere, so is the whole vial."""
    a, b = _a_to_b((1, 2), (1, 2))
    registered_only = stays_at("a", a[:1], [])
    received = stays_at("b", b, [HandoverRow(1, "in", T, "a", "x")])
    broken = join("v", registered_only + received)
    assert broken.broken is not None
    assert "joins no hand-over" in broken.broken
    nothing = join("v", received)
    assert nothing.broken is not None
    assert "no registration" in nothing.broken
    assert [s.site for s in join("v", received, partial=True).stays] == ["b"]
