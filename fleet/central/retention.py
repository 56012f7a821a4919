"""Retention at central: drop whole monthly partitions of readings older than the time kept.

Dropping a partition is one catalogue change, where deleting its rows would rewrite and vacuum the table;
that is what the readings are partitioned by month for. A partition goes once its whole month (by the
sites' time) ends before the cutoff, in one transaction with the sites' readings counters, which lose
what it held. Gaps, vial events, alert changes and audit rows are the record and are kept.

A site that sends a reading older than the cutoff later (a Pi back after months) recreates its month's
partition; the next pass drops it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from fleet.central.partitions import PARTITIONED

_NAME = re.compile(r"^(?P<table>[a-z_]+)_y(?P<year>\d{4})m(?P<month>\d{2})$")


@dataclass(frozen=True, slots=True)
class Dropped:
    partition: str
    readings: int  # rows it held


def _month_end(year: int, month: int) -> datetime:
    return datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)


def partitions(conn: psycopg.Connection[tuple[Any, ...]]) -> list[str]:
    """Every partition of the readings' tables, by name."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " JOIN pg_class AS p ON p.oid = i.inhparent WHERE p.relname = ANY(%s) ORDER BY c.relname",
        (list(PARTITIONED),),
    ).fetchall()
    return [str(r[0]) for r in rows]


def drop_before(conn: psycopg.Connection[tuple[Any, ...]], cutoff_ts: float) -> list[Dropped]:
    """Drop every partition whose month ends at or before ``cutoff_ts``; in one transaction."""
    cutoff = datetime.fromtimestamp(cutoff_ts, UTC)
    dropped = []
    with conn.transaction():
        for name in partitions(conn):
            m = _NAME.match(name)
            if m is None or m["table"] not in PARTITIONED:
                continue  # not one this module's names made
            if _month_end(int(m["year"]), int(m["month"])) > cutoff:
                continue
            per_site = conn.execute(f"SELECT site, count(*) FROM {name} GROUP BY site").fetchall()
            for site, count in per_site:
                conn.execute("UPDATE sites SET readings = readings - %s WHERE site = %s", (count, site))
            conn.execute(f"DROP TABLE {name}")  # a name matched above, not input
            dropped.append(Dropped(name, sum(int(c) for _, c in per_site)))
    return dropped
