"""Each site's audit trail at central: every row verified against the head central has pinned, with the
site's own code (:mod:`monitor.audit`), before it is stored.

Central keeps, per site, the last row it verified (its id and hash, the *head*). A row is stored only if
it is the next id, names the head as its ``prev_hash`` and hashes to its own ``hash``; a row central
already holds with the same hash is a resend and is skipped. Anything else (a gap in the ids, a row
that does not follow the head, contents that do not match the hash, a row central holds under another
hash: a chain rewritten at the site, or a database restored from a backup that forked it) breaks the
chain: the row is refused, kept apart with the reason, and every later row of that site is refused too,
since it can no longer be checked against what central pinned. The site's readings keep flowing; the
break is reported in ``GET /api/v1/sites`` until someone looks into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.audit import GENESIS_HASH, AuditRow, row_hash

_FIELDS = ("id", "ts", "actor", "action", "subject", "detail", "prev_hash", "hash")


@dataclass(frozen=True, slots=True)
class Head:
    """What central has verified of a site's chain; ``problem`` once it broke (the first refusal)."""

    rows: int = 0
    head_id: int = 0
    head_hash: str = GENESIS_HASH
    broken_at_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class Refusal:
    index: int  # into the rows given
    row_id: int | None
    problem: str


@dataclass(frozen=True, slots=True)
class Extension:
    head: Head
    accepted: tuple[int, ...]  # indexes into the rows given, to store
    refused: tuple[Refusal, ...]


def audit_row(record: Mapping[str, Any]) -> AuditRow | None:
    """The site's row from its copy, or None if the copy is not one (a field missing or mistyped)."""
    try:
        row = AuditRow(
            id=record["id"],
            ts=record["ts"],
            actor=record["actor"],
            action=record["action"],
            subject=record["subject"],
            detail=record["detail"],
            prev_hash=record["prev_hash"],
            hash=record["hash"],
        )
    except KeyError:
        return None
    typed = (
        isinstance(row.id, int)
        and not isinstance(row.id, bool)
        and isinstance(row.ts, int | float)
        and all(isinstance(getattr(row, f), str) for f in _FIELDS[2:])
    )
    return row if typed else None


def extend(head: Head, records: Iterable[Mapping[str, Any]], held: Mapping[int, str]) -> Extension:
    """Verify ``records`` (a batch's audit rows, in the site's order) from ``head``; ``held`` maps the ids
    at or below the head that appear in ``records`` to the hash central stored for them."""
    accepted: list[int] = []
    refused: list[Refusal] = []
    for i, record in enumerate(records):
        row = audit_row(record)
        problem = None
        if row is None:
            problem = "not an audit row (a field missing or of the wrong type)"
        elif head.problem is not None:
            problem = f"follows the chain's break at row {head.broken_at_id}"
        elif row.id <= head.head_id:
            if held.get(row.id) == row.hash:
                continue  # a resend of a row central holds
            problem = f"row {row.id}: central holds another version (the chain was rewritten)"
        elif row.id != head.head_id + 1:
            problem = f"rows {head.head_id + 1}-{row.id - 1} are missing"
        elif row.prev_hash != head.head_hash:
            problem = f"row {row.id}: does not follow central's head, row {head.head_id} (prev_hash differs)"
        elif row.hash != row_hash(
            row.prev_hash, row.id, float(row.ts), row.actor, row.action, row.subject, row.detail
        ):
            problem = f"row {row.id}: its contents do not match its hash (edited)"
        if problem is None:
            assert row is not None
            head = Head(head.rows + 1, row.id, row.hash)
            accepted.append(i)
            continue
        row_id = None if row is None else row.id
        refused.append(Refusal(i, row_id, problem))
        if head.problem is None:
            head = Head(head.rows, head.head_id, head.head_hash, row_id, problem)
    return Extension(head, tuple(accepted), tuple(refused))
