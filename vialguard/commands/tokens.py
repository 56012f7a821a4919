"""``vialguard token create|list|revoke``: API tokens, managed at the console of the data's machine.

``create`` prints the token once: only its digest is stored, so it cannot be shown again (revoke it and
create another). Every change is appended to the audit trail, naming the console user.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from monitor.errors import ConfigError
from monitor.outages import iso
from monitor.store import Database
from monitor.store import tokens as token_store
from monitor.store.database import transaction
from monitor.tokens import MAX_TOKEN_SECONDS, SCOPES
from vialguard.actor import console_actor
from vialguard.clocks import expiry_now, system_now
from vialguard.options import SITE, add_options, parse_duration, print_json, settings_from


def _expiry(text: str) -> float:
    """``--expires-in``: a duration (90d, 12h), more than nothing and at most ten years."""
    try:
        seconds = parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if not 0 < seconds <= MAX_TOKEN_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r}: an expiry must be more than 0 and at most ten years")
    return seconds


def _database(args: argparse.Namespace) -> Database:
    database = Database(settings_from(args).db_path)
    database.initialise()
    return database


def cmd_create(args: argparse.Namespace) -> int:
    database = _database(args)
    conn = database.connect()
    try:
        now = system_now(conn, database.path)
        with transaction(conn):
            # Expiry runs on real time, never before what the system has seen of it.
            expires = None if args.expires_in is None else expiry_now(conn) + args.expires_in
            record, text = token_store.create_audited(
                conn, args.name, args.scope, now, expires, console_actor()
            )
    finally:
        conn.close()
    # The token goes to standard output only, for the user to copy; it is never logged.
    if args.json:
        print_json(
            {
                "name": record.name,
                "scope": record.scope,
                "token_id": record.token_id,
                "expires_ts": record.expires_ts,
                "token": text,
            }
        )
    else:
        print(text)  # noqa: T201  # command output
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    conn = Database(settings_from(args).db_path).connect_readonly()
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
    if args.json:
        print(json.dumps(rows, indent=2))  # noqa: T201  # command output
        return 0
    for r in records:
        until = "" if r.expires_ts is None else f"  expires {iso(r.expires_ts)}"
        print(f"{r.name:<24} {r.scope:<6} vg_{r.token_id}_…  {r.state(now)}{until}")  # noqa: T201
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    database = _database(args)
    conn = database.connect()
    try:
        now = system_now(conn, database.path)
        with transaction(conn):
            record = token_store.revoke_audited(conn, args.name, now, console_actor())
    finally:
        conn.close()
    if args.json:
        print_json({"name": record.name, "token_id": record.token_id, "revoked_ts": record.revoked_ts})
    else:
        print(f"token {record.name!r} revoked")  # noqa: T201  # command output
    return 0


def add_parsers(sub: Any) -> None:
    token = sub.add_parser("token", help="API tokens: create (printed once), list, revoke")
    inner = token.add_subparsers(dest="token_command", required=True)
    create = inner.add_parser("create", help="create a token and print it once")
    add_options(create, *SITE, "json")
    create.add_argument("--name", required=True, help="who or what uses it, e.g. nurse-station")
    create.add_argument("--scope", required=True, choices=SCOPES, help="read, write (includes read), admin")
    create.add_argument(
        "--expires-in",
        type=_expiry,
        metavar="DURATION",
        help="refuse it after this long, e.g. 90d or 12h (default: until revoked)",
    )
    create.set_defaults(func=cmd_create)
    listing = inner.add_parser("list", help="every token: name, scope, public id, live or revoked")
    add_options(listing, *SITE, "json")
    listing.set_defaults(func=cmd_list)
    revoke = inner.add_parser("revoke", help="revoke the live token of a name")
    add_options(revoke, *SITE, "json")
    revoke.add_argument("--name", required=True)
    revoke.set_defaults(func=cmd_revoke)
