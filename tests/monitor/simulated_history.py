"""A simulated history run once per module and copied into each test that reads or changes it.

Running the acquisition loop over hours of manual-clock time takes seconds; a module whose tests each
start from the same hours builds them once and gives every test its own copy of the database file, with
the test's clock moved as the simulation moved its own: what ``run_simulation`` on the test's settings
and clock would have returned (the simulation is seeded by the settings and driven by the manual clock
alone, so every run of it writes the same rows).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hardware.clock import ManualClock
from monitor.config import Settings, parse_settings
from monitor.model.profiles import Catalog
from monitor.store import Database
from tests.conftest import simulated_raw
from tests.monitor.test_engine import run_simulation


@dataclass(frozen=True)
class BuiltHistory:
    db: Path  # the database as the simulation left it, closed: no write-ahead log beside it
    elapsed_seconds: float  # how far the simulation moved its manual clock

    def copy_for(self, settings: Settings, clock: ManualClock) -> sqlite3.Connection:
        """The history at ``settings.db_path``, ``clock`` (fresh) moved to the simulation's end."""
        shutil.copyfile(self.db, settings.db_path)
        clock.advance(self.elapsed_seconds)
        return Database(settings.db_path).connect()


def build_history(
    directory: Path, catalog: Catalog, seconds: float, adjust: Callable[[Settings], Settings]
) -> BuiltHistory:
    """The shipped simulated site (as the ``settings`` fixture gives it), changed by ``adjust``, run for
    ``seconds`` from a fresh manual clock."""
    settings = parse_settings(simulated_raw(), "simulated.toml", {"db_path": directory / "vialguard.db"})
    clock = ManualClock()
    start = clock.wall()
    run_simulation(adjust(settings), catalog, clock, seconds).close()
    assert not settings.db_path.with_name(settings.db_path.name + "-wal").exists()  # all in the file
    return BuiltHistory(settings.db_path, clock.wall() - start)
