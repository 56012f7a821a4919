"""What central's API reads: each site's figures, and the fleet's alert feed after a cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """The site's audit chain as central verified it: ``head_id``/``head_hash`` are the pinned head."""

    rows: int
    head_id: int
    head_hash: str | None
    intact: bool
    problem: str | None  # the first refusal, while the chain is broken
    refused: int  # rows kept apart, unverified


@dataclass(frozen=True, slots=True)
class EpochSummary:
    """One of the site's epochs: a new one after the first means the site found central holding rows
    that were not its own (a database put back by hand) or was restored from a backup; ``reason`` says."""

    epoch: str
    base: int  # the last number before it began
    through: int  # central's point in it
    parent: str | None  # the epoch the site replaced with it
    reason: str | None  # null: the uplink was enabled
    started_ts: float | None  # central's clock at its first batch (null: before central's migration 5)


@dataclass(frozen=True, slots=True)
class SiteSummary:
    site: str
    readings: int  # stored here, for the site
    epoch: str | None
    acknowledged_through: int | None  # central's point in the site's current epoch
    backlog: int  # rows the site had numbered that central has not yet committed (as of its last batch)
    backlog_oldest_queued_ts: float | None
    last_seen_ts: float
    clock_skew_seconds: float | None
    online: bool
    audit: AuditSummary
    epochs: tuple[EpochSummary, ...] = ()  # in the order they began
    restored_ts: float | None = None  # when the site last drew an epoch for a reason (see EpochSummary)
    record_conflicts: int = 0  # rows whose site id central holds with another content, kept apart


@dataclass(frozen=True, slots=True)
class AlertChange:
    cursor: int
    site: str
    received_ts: float
    alert: dict[str, Any]


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def sites(conn: psycopg.Connection[tuple[Any, ...]]) -> list[SiteSummary]:
    rows = conn.execute(
        "SELECT s.site, s.readings, s.epoch, e.acked_seq, s.numbered_through, s.backlog_oldest_queued_at,"
        " s.last_seen_at, s.clock_skew_seconds, s.online,"
        " coalesce(h.rows, 0), coalesce(h.head_id, 0), h.head_hash, h.problem,"
        " (SELECT count(*) FROM audit_refusals AS r WHERE r.site = s.site)"
        " FROM sites AS s LEFT JOIN site_epochs AS e ON e.site = s.site AND e.epoch = s.epoch"
        " LEFT JOIN audit_heads AS h ON h.site = s.site"
        " ORDER BY s.site"
    ).fetchall()
    epochs: dict[str, list[EpochSummary]] = {}
    for site, *fields in conn.execute(
        "SELECT site, epoch, base_seq, acked_seq, parent_epoch, reason, started_at FROM site_epochs"
        " ORDER BY site, started_at NULLS FIRST, acked_at"
    ).fetchall():
        epoch, base, through, parent, reason, started = fields
        epochs.setdefault(site, []).append(
            EpochSummary(epoch, int(base), int(through), parent, reason, _ts(started))
        )
    conflicts = dict(
        conn.execute("SELECT site, count(*) FROM site_record_conflicts GROUP BY site").fetchall()
    )
    out = []
    for (
        site,
        readings,
        epoch,
        acked,
        numbered,
        oldest,
        seen,
        skew,
        online,
        audit_rows,
        head_id,
        head_hash,
        problem,
        refused,
    ) in rows:
        out.append(
            SiteSummary(
                site=site,
                readings=int(readings),
                epoch=epoch,
                acknowledged_through=None if acked is None else int(acked),
                backlog=max(0, int(numbered) - int(acked or 0)),
                backlog_oldest_queued_ts=_ts(oldest),
                last_seen_ts=seen.timestamp(),
                clock_skew_seconds=skew,
                online=bool(online),
                audit=AuditSummary(
                    int(audit_rows), int(head_id), head_hash, problem is None, problem, int(refused)
                ),
                epochs=tuple(epochs.get(site, ())),
                restored_ts=max(
                    (e.started_ts for e in epochs.get(site, ()) if e.reason and e.started_ts is not None),
                    default=None,
                ),
                record_conflicts=int(conflicts.get(site, 0)),
            )
        )
    return out


def alert_changes(conn: psycopg.Connection[tuple[Any, ...]], after: int, limit: int) -> list[AlertChange]:
    """The feed's changes with a cursor above ``after``, in cursor order (which is commit order)."""
    rows = conn.execute(
        "SELECT cursor, site, received_at, record FROM alert_feed WHERE cursor > %s ORDER BY cursor LIMIT %s",
        (after, limit),
    ).fetchall()
    return [AlertChange(int(c), s, r.timestamp(), dict(rec)) for c, s, r, rec in rows]
