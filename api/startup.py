"""What the API runs on: the SQLite database the settings name, built once at start.

The one module of ``api`` that knows the store is SQLite (``tests/test_architecture.py`` holds every
other to :mod:`monitor.store.ports`); a fleet's central server builds its app on another store instead.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from hardware.clock import Clock
from monitor.config import Settings
from monitor.store.database import Database
from monitor.store.sqlite_pool import SqlitePool

# SQLite's page cache per connection, in KiB (its default is 2,000). The API's reads are short and the OS
# keeps the file's pages cached anyway; a connection per request in flight at the default would let the
# API's memory grow by 2 MB a connection as the database grows (bench/bench_durability.py).
API_CACHE_KIB = 512


def sqlite_pool(settings: Settings) -> SqlitePool:
    """The settings' database, created or migrated, with a pool of connections for the API's requests."""
    database = Database(settings.db_path)
    database.initialise()
    return SqlitePool(database, cache_kib=API_CACHE_KIB)


def sqlite_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    """The API over the SQLite database of ``settings``."""
    return create_app(settings, sqlite_pool(settings), clock)
