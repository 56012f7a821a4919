"""The real clock's high-water mark in the database: it only rises, in steps that spare the SD card."""

from __future__ import annotations

from contextlib import closing

from monitor.config import Settings
from monitor.store import Database, clocks
from monitor.store.database import transaction


def test_the_mark_rises_in_steps_and_never_falls(settings: Settings) -> None:
    """First time: set. Less than a step later: unchanged (no write). A step later: raised. Earlier: kept."""
    db = Database(settings.db_path)
    db.initialise()
    with closing(db.connect()) as conn, transaction(conn):
        assert clocks.real_high_water(conn) is None
        assert clocks.raise_real_high_water(conn, 1_000.0) == 1_000.0
        changes = conn.total_changes
        assert clocks.raise_real_high_water(conn, 1_030.0) == 1_000.0
        assert conn.total_changes == changes  # nothing written
        assert clocks.raise_real_high_water(conn, 1_060.0) == 1_060.0
        assert clocks.raise_real_high_water(conn, 500.0) == 1_060.0  # a clock stepped back lowers nothing
