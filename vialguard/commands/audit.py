"""``vialguard audit verify`` and ``audit list``: check the audit trail's hash chain, read its rows.

``verify`` exits 0 when the chain is intact and 1 when a row was edited or deleted, naming each problem;
it prints the head hash, which noted elsewhere lets a later check prove the chain was not rewritten.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from typing import Any

from monitor.store import Database
from monitor.store import audit as audit_store
from vialguard import exits
from vialguard.options import SITE, add_options, print_json, settings_from


def _conn(args: argparse.Namespace) -> sqlite3.Connection:
    # Both commands only read: the database as it is, never created nor migrated.
    return Database(settings_from(args).db_path).connect_readonly()


def cmd_verify(args: argparse.Namespace) -> int:
    conn = _conn(args)
    try:
        result = audit_store.check(conn)
    finally:
        conn.close()
    if args.expect_head is not None and args.expect_head not in _hashes(args):
        problems = (*result.problems, f"the noted hash {args.expect_head} is no longer in the chain")
    else:
        problems = result.problems
    status = exits.OK if not problems else exits.CHECK_FAILED
    if args.json:
        print_json(
            {
                "intact": not problems,
                "rows": result.rows,
                "head_hash": result.head_hash,
                "problems": [*problems],
            }
        )
        return status
    for problem in problems:
        print(f"TAMPERED: {problem}", file=sys.stderr)  # noqa: T201  # command output
    verdict = "intact" if not problems else "NOT intact"
    print(f"audit trail {verdict}: {result.rows} rows, head {result.head_hash}")  # noqa: T201
    return status


def _hashes(args: argparse.Namespace) -> set[str]:
    conn = _conn(args)
    try:
        return {str(h) for (h,) in conn.execute("SELECT hash FROM audit_log")}
    finally:
        conn.close()


def cmd_list(args: argparse.Namespace) -> int:
    conn = _conn(args)
    try:
        rows = audit_store.entries(conn, args.after, args.limit)
    finally:
        conn.close()
    out = [
        {"id": r.id, "ts": r.ts, "actor": r.actor, "action": r.action, "subject": r.subject}
        | {"detail": json.loads(r.detail), "hash": r.hash}
        for r in rows
    ]
    if args.json:
        print_json(out)
        return 0
    for line in out:
        print(json.dumps(line))  # noqa: T201  # command output: one JSON object a line
    return 0


def add_parsers(sub: Any) -> None:
    audit = sub.add_parser("audit", help="the audit trail: verify its hash chain, list its rows")
    inner = audit.add_subparsers(dest="audit_command", required=True)
    verify = inner.add_parser("verify", help="check the hash chain; exit 1 naming any edited or deleted row")
    add_options(verify, *SITE, "json")
    verify.add_argument(
        "--expect-head", metavar="HASH", help="a head hash noted earlier that must still be there"
    )
    verify.set_defaults(func=cmd_verify)
    listing = inner.add_parser("list", help="rows as JSON lines, oldest first (--json: one JSON array)")
    add_options(listing, *SITE, "json")
    listing.add_argument("--after", type=int, default=0, help="rows after this id")
    listing.add_argument("--limit", type=int, default=1000)
    listing.set_defaults(func=cmd_list)
