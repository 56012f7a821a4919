"""The SQLite store: schema and migrations, connections, and one module of queries per concern."""

from monitor.store.database import Database

__all__ = ["Database"]
