"""The audit trail's hash chain, pure: how a row's hash is made and what a chain's check finds.

Each row's hash is SHA-256 over the previous row's hash and the row's own fields in canonical JSON (sorted
keys, no spaces, floats as Python writes them, which SQLite's REAL returns bit for bit). Changing any field
of any row changes its hash, and every later row's ``prev_hash`` then points at a hash that is no longer
there. Ids are never reused, so a deleted row leaves a gap in the ids; a deleted last row leaves the highest
id ever given out (``last_assigned_id``) past the last row.

What it cannot find: someone with write access to the database who rewrites every row from the edit on
and the id counter. :func:`verify` returns the head hash; noted somewhere else (a printout, a ticket), it
turns that into a finding as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditRow:
    id: int
    ts: float
    actor: str
    action: str
    subject: str
    detail: str  # canonical JSON
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainCheck:
    rows: int
    head_hash: str
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def canonical(detail: Mapping[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def row_hash(
    prev_hash: str, row_id: int, ts: float, actor: str, action: str, subject: str, detail: str
) -> str:
    body = json.dumps([prev_hash, row_id, ts, actor, action, subject, detail], separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def verify(rows: Iterable[AuditRow], last_assigned_id: int) -> ChainCheck:
    """Check a chain given in id order; every problem is named with the row where it shows."""
    problems: list[str] = []
    prev_hash, prev_id, count = GENESIS_HASH, 0, 0
    for row in rows:
        count += 1
        if row.id != prev_id + 1:
            problems.append(f"rows {prev_id + 1}-{row.id - 1} are missing (deleted)")
        if row.prev_hash != prev_hash:
            problems.append(f"row {row.id}: does not follow the row before it (prev_hash differs)")
        expected = row_hash(row.prev_hash, row.id, row.ts, row.actor, row.action, row.subject, row.detail)
        if row.hash != expected:
            problems.append(f"row {row.id}: its contents do not match its hash (edited)")
        prev_hash, prev_id = row.hash, row.id
    if last_assigned_id > prev_id:
        problems.append(f"rows {prev_id + 1}-{last_assigned_id} are missing at the end (deleted)")
    return ChainCheck(rows=count, head_hash=prev_hash, problems=tuple(problems))
