"""Central's check of a site's audit chain: the site's own hash code, from the head central pinned."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from fleet.central.audit_chain import Head, extend
from monitor.audit import GENESIS_HASH, AuditRow, canonical, row_hash


def chain(n: int, start: int = 1, prev: str = GENESIS_HASH, actor: str = "pharmacist") -> list[AuditRow]:
    rows = []
    for i in range(start, start + n):
        detail = canonical({"n": i, "x": 0.1 + 0.2})
        ts = 1796175627.6038153 + i
        digest = row_hash(prev, i, ts, actor, "note", "fridge-1", detail)
        rows.append(AuditRow(i, ts, actor, "note", "fridge-1", detail, prev, digest))
        prev = digest
    return rows


def records(rows: list[AuditRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


def test_an_intact_chain_moves_the_head() -> None:
    """Each row that follows the head and matches its hash is accepted; the head is the last one."""
    rows = chain(5)
    out = extend(Head(), records(rows), {})
    assert out.accepted == (0, 1, 2, 3, 4)
    assert out.refused == ()
    assert out.head == Head(5, 5, rows[-1].hash)
    later = chain(2, 6, rows[-1].hash)
    assert extend(out.head, records(later), {}).head == Head(7, 7, later[-1].hash)


def test_a_resend_of_a_held_row_is_skipped() -> None:
    """A row central holds with the same hash is neither stored again nor refused."""
    rows = chain(3)
    head = Head(3, 3, rows[-1].hash)
    out = extend(head, records(rows[1:]), {2: rows[1].hash, 3: rows[2].hash})
    assert (out.accepted, out.refused, out.head) == ((), (), head)


def test_an_edited_row_breaks_the_chain_and_everything_after_it() -> None:
    """A row whose contents no longer match its hash is refused, and so is every later row."""
    rows = chain(4)
    rows[1] = replace(rows[1], actor="someone-else")
    out = extend(Head(), records(rows), {})
    assert out.accepted == (0,)
    assert [(r.index, r.row_id) for r in out.refused] == [(1, 2), (2, 3), (3, 4)]
    assert out.head.head_id == 1
    assert not out.head.intact
    assert out.head.broken_at_id == 2
    assert "do not match its hash" in (out.head.problem or "")
    assert "break at row 2" in out.refused[1].problem


def test_a_rewritten_chain_is_refused() -> None:
    """Rows re-hashed from an edit on (which the site alone cannot tell) differ from what central holds."""
    rows = chain(3)
    head = Head(3, 3, rows[-1].hash)
    rewritten = chain(3, actor="forger")
    out = extend(head, records(rewritten), {1: rows[0].hash, 2: rows[1].hash, 3: rows[2].hash})
    assert out.accepted == ()
    assert "central holds another version" in (out.head.problem or "")


def test_a_fork_does_not_follow_the_head() -> None:
    """A database restored from a backup goes on from an older row: its next row names the wrong head."""
    rows = chain(4)
    fork = chain(1, 5, rows[1].hash)  # chained onto row 2, as a restored copy would
    out = extend(Head(4, 4, rows[-1].hash), records(fork), {})
    assert out.accepted == ()
    assert "does not follow central's head" in (out.head.problem or "")


def test_a_missing_row_and_a_malformed_one_are_refused() -> None:
    """A gap in the ids, and a copy that is not an audit row, break the chain with the reason."""
    rows = chain(3)
    gap = extend(Head(), records([rows[0], rows[2]]), {})
    assert gap.accepted == (0,)
    assert "rows 2-2 are missing" in (gap.head.problem or "")
    bad = extend(Head(), [{"id": "1"}], {})
    assert bad.refused[0].row_id is None
    assert "not an audit row" in (bad.head.problem or "")
