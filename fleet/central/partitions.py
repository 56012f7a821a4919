"""Monthly partitions of central's readings, created as rows arrive (before they are inserted)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import psycopg

PARTITIONED = ("light_readings", "temperature_readings")


def month_of(ts: float) -> tuple[int, int]:
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.year, moment.month


def partition_name(table: str, month: tuple[int, int]) -> str:
    return f"{table}_y{month[0]:04d}m{month[1]:02d}"


def _bounds(month: tuple[int, int]) -> tuple[datetime, datetime]:
    year, m = month
    start = datetime(year, m, 1, tzinfo=UTC)
    end = datetime(year + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    return start, end


class Partitions:
    """Which monthly partitions exist, remembered per process so a batch costs no catalogue lookup."""

    def __init__(self) -> None:
        self.known: set[str] = set()

    def ensure(
        self, conn: psycopg.Connection[tuple[object, ...]], table: str, times: Iterable[float]
    ) -> None:
        """Create ``table``'s partitions for the months of ``times``; inside the caller's transaction (a
        rolled-back creation is forgotten with :meth:`forget`)."""
        for month in sorted({month_of(ts) for ts in times}):
            name = partition_name(table, month)
            if name in self.known:
                continue
            start, end = _bounds(month)
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table}"  # names built here, not input
                f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
            self.known.add(name)

    def forget(self) -> None:
        """After a rollback: what this process created in it is gone."""
        self.known.clear()
