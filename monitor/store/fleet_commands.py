"""The commands central sent this site, by central's command id: applied or refused, and the result sent
back (migration 19).

Central publishes a command until the site's result reaches it, so the same command may arrive many
times; the first delivery applies it (or refuses it) and stores its result here in the same transaction,
and every later delivery finds the row and sends that result again, changing nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["applied", "refused"]

MIGRATION = """
    CREATE TABLE fleet_commands (
        command_id TEXT PRIMARY KEY,  -- central's id: the key a duplicate delivery is found by
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,  -- central's operator, as the site's audit trail names them
        outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'refused')),
        result TEXT NOT NULL,  -- the result message as first sent (JSON)
        handled_ts REAL NOT NULL  -- the site's clock when it applied or refused the command
    );
"""


@dataclass(frozen=True, slots=True)
class HandledCommand:
    command_id: str
    kind: str
    actor: str
    outcome: Outcome
    result: str
    handled_ts: float


def handled(conn: sqlite3.Connection, command_id: str) -> HandledCommand | None:
    """The command's row if it was applied or refused before, else None."""
    row = conn.execute(
        "SELECT command_id, kind, actor, outcome, result, handled_ts FROM fleet_commands"
        " WHERE command_id = ?",
        (command_id,),
    ).fetchone()
    return None if row is None else HandledCommand(*row)


def remember(conn: sqlite3.Connection, handled_command: HandledCommand) -> None:
    """Record a command's outcome; inside the transaction that applied (or refused) it."""
    c = handled_command
    conn.execute(
        "INSERT INTO fleet_commands (command_id, kind, actor, outcome, result, handled_ts)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (c.command_id, c.kind, c.actor, c.outcome, c.result, c.handled_ts),
    )
