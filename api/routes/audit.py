"""The audit trail, read only: its rows in order, and a check of its hash chain. Needs an admin token."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query

from api.audit_schemas import AuditCheck, AuditEntry, AuditPage
from api.auth import AdminDep
from api.deps import StoreDep
from api.params import SINCE_MAX
from api.schemas import iso

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def list_audit(
    store: StoreDep,
    who: AdminDep,
    after: Annotated[
        int, Query(ge=0, le=SINCE_MAX, description="the cursor of the previous page; 0 from the start")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> AuditPage:
    """Audit rows after ``after``, oldest first: acknowledgements, silences, tokens, vial events, config."""
    with store.snapshot():
        rows = store.audit_entries(after, limit)
    entries = [
        AuditEntry(
            id=r.id,
            at=iso(r.ts) or "",
            actor=r.actor,
            action=r.action,
            subject=r.subject,
            detail=json.loads(r.detail),
            prev_hash=r.prev_hash,
            hash=r.hash,
        )
        for r in rows
    ]
    return AuditPage(entries=entries, cursor=rows[-1].id if rows else after, has_more=len(rows) == limit)


@router.get("/verify", response_model=AuditCheck)
def verify_audit(store: StoreDep, who: AdminDep) -> AuditCheck:
    """Check the hash chain: an edited or deleted row is named in ``problems``."""
    result = store.check_audit()
    return AuditCheck(
        intact=result.intact, rows=result.rows, head_hash=result.head_hash, problems=list(result.problems)
    )
