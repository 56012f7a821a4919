"""The keys things are shown by: each location's, vial's and sensor's key by its id."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyNames:
    """Id to key for the three tables an alert points into, read once per response (not once per alert:
    a 500-alert page read the three tables 1,500 times)."""

    locations: dict[int, str]
    vials: dict[int, str]
    sensors: dict[int, str]


def _keys(conn: sqlite3.Connection, table: str) -> dict[int, str]:
    return {int(i): str(k) for i, k in conn.execute(f"SELECT id, key FROM {table}")}


def key_names(conn: sqlite3.Connection) -> KeyNames:
    return KeyNames(_keys(conn, "locations"), _keys(conn, "vials"), _keys(conn, "sensors"))
