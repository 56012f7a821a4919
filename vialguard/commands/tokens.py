"""``vialguard token create|list|revoke``: API tokens, managed at the console of the data's machine.

``create`` prints the token once: only its digest is stored, so it cannot be shown again (revoke it and
create another). Every change is appended to the audit trail, naming the console user. The commands are
:mod:`vialguard.commands.token_commands` over the site's SQLite file.
"""

from __future__ import annotations

import argparse
from typing import Any

from monitor.outages import iso
from monitor.store import Database
from monitor.store import tokens as token_store
from monitor.store.database import transaction
from monitor.tokens import Scope
from vialguard.actor import console_actor
from vialguard.clocks import expiry_now, system_now
from vialguard.commands import token_commands
from vialguard.commands.token_commands import Printed, TokenWords
from vialguard.options import SITE, add_options, settings_from

WORDS = TokenWords(
    command="token",
    tokens="API tokens: create (printed once), list, revoke",
    create="create a token and print it once",
    list="every token: name, scope, public id, live or revoked",
    revoke="revoke the live token of a name",
    name="who or what uses it, e.g. nurse-station",
    scope="read, write (includes read), admin",
    expires_in="refuse it after this long, e.g. 90d or 12h (default: until revoked)",
    revoke_name=None,
)


class SiteTokens:
    """The site's API tokens in the database the command's settings name; a connection per call."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    def _database(self) -> Database:
        database = Database(settings_from(self.args).db_path)
        database.initialise()
        return database

    def create(self, name: str, scope: Scope, expires_in_seconds: float | None) -> Printed:
        database = self._database()
        conn = database.connect()
        try:
            now = system_now(conn, database.path)
            with transaction(conn):
                # Expiry runs on real time, never before what the system has seen of it.
                expires = None if expires_in_seconds is None else expiry_now(conn) + expires_in_seconds
                record, text = token_store.create_audited(conn, name, scope, now, expires, console_actor())
        finally:
            conn.close()
        described = {
            "name": record.name,
            "scope": record.scope,
            "token_id": record.token_id,
            "expires_ts": record.expires_ts,
            "token": text,
        }
        return Printed(described, text)

    def list(self) -> Printed:
        conn = Database(settings_from(self.args).db_path).connect_readonly()
        try:
            records = token_store.list_all(conn)
            now = expiry_now(conn)  # what each token's state depends on
        finally:
            conn.close()
        rows: list[dict[str, Any]] = [
            {
                "name": r.name,
                "scope": r.scope,
                "token_id": r.token_id,
                "created_ts": r.created_ts,
                "revoked_ts": r.revoked_ts,
                "expires_ts": r.expires_ts,
                "state": r.state(now),
            }
            for r in records
        ]
        lines = []
        for r in records:
            until = "" if r.expires_ts is None else f"  expires {iso(r.expires_ts)}"
            lines.append(f"{r.name:<24} {r.scope:<6} vg_{r.token_id}_…  {r.state(now)}{until}")
        return Printed(rows, "\n".join(lines))

    def revoke(self, name: str) -> Printed:
        database = self._database()
        conn = database.connect()
        try:
            now = system_now(conn, database.path)
            with transaction(conn):
                record = token_store.revoke_audited(conn, name, now, console_actor())
        finally:
            conn.close()
        described = {"name": record.name, "token_id": record.token_id, "revoked_ts": record.revoked_ts}
        return Printed(described, f"token {record.name!r} revoked")


def cmd_token(args: argparse.Namespace) -> int:
    return token_commands.show(args, token_commands.perform(args, SiteTokens(args)))


def add_parsers(sub: Any) -> None:
    token_commands.add_parsers(sub, WORDS, lambda p: add_options(p, *SITE), cmd_token)
