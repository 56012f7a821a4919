"""``vialguard db check``, ``backup``, ``downsample``: soundness, a safe copy, old readings into minutes."""

from __future__ import annotations

import argparse
import dataclasses
import sqlite3
import sys
from pathlib import Path
from typing import Any

from monitor.config import Settings, load_settings
from monitor.errors import ConfigError
from monitor.integrity import check_database
from monitor.store import Database
from monitor.store.backup import backup
from monitor.store.retention import downsample
from vialguard import exits
from vialguard.clocks import system_now
from vialguard.options import add_options, print_json


def _db_path(args: argparse.Namespace) -> Path:
    if args.db is not None:
        path: Path = args.db
    elif args.config is not None:
        path = load_settings(args.config).db_path
    else:
        path = Settings.model_fields["db_path"].default
    if not path.is_file():
        raise ConfigError(f"no database at {path} (pass --db PATH or --config FILE, or set $VIALGUARD_DB)")
    return path


def _readonly(path: Path) -> sqlite3.Connection:
    """A check or a backup never writes the database it reads, not even a pragma (SQLite ``mode=ro``)."""
    return Database(path).connect_readonly(any_schema=True)


def _out(text: str) -> None:
    print(text)  # noqa: T201  # the command's report, for the terminal


def cmd_check(args: argparse.Namespace) -> int:
    path = _db_path(args)
    conn = _readonly(path)
    try:
        report = check_database(conn)
    except sqlite3.DatabaseError as exc:
        problem = f"the database cannot be read: {exc}"
        if args.json:
            print_json({"database": str(path), "ok": False, "problems": [problem]})
        else:
            print(f"vialguard: {path}: check FAILED: {problem}", file=sys.stderr)  # noqa: T201
        return exits.CHECK_FAILED
    finally:
        conn.close()
    if args.json:
        print_json(
            {
                "database": str(path),
                "ok": report.ok,
                "integrity": list(report.integrity),
                "schema_version": report.schema_version,
                "ledgers": [{**dataclasses.asdict(c), "ok": c.ok} for c in report.ledgers],
                "problems": report.problems,
            }
        )
        return exits.OK if report.ok else exits.CHECK_FAILED
    _out(f"database: {path}")
    _out("integrity: " + "; ".join(report.integrity[:5]))
    _out(f"schema version: {report.schema_version}")
    for c in report.ledgers:
        verdict = "ok" if c.ok else "MISMATCH"
        _out(
            f"ledger {c.sensor_key}: {c.readings} readings, {c.gaps} gaps, {verdict}"
            f" (largest difference {c.max_difference:.3g})"
        )
    if not report.ok:
        for problem in report.problems:
            print(f"vialguard: {path}: check FAILED: {problem}", file=sys.stderr)  # noqa: T201
        return exits.CHECK_FAILED
    _out("check passed")
    return exits.OK


def cmd_backup(args: argparse.Namespace) -> int:
    path = _db_path(args)
    dest: Path = args.dest
    if dest.resolve() == path.resolve():
        raise ConfigError(f"backup destination {dest} is the database itself")
    if dest.is_dir() or not dest.parent.is_dir():  # what the user typed, before the database is opened
        what = "is a directory; give a file name" if dest.is_dir() else f"folder {dest.parent} does not exist"
        raise ConfigError(f"backup destination {dest}: {what}")
    conn = _readonly(path)  # the copy is written through its own connection
    try:
        size = backup(conn, dest)
    finally:
        conn.close()
    if args.json:
        print_json({"database": str(path), "backup": str(dest), "bytes": size, "integrity": "ok"})
    else:
        _out(f"backed up {path} to {dest} ({size} bytes, integrity ok)")
    return 0


def cmd_downsample(args: argparse.Namespace) -> int:
    path = _db_path(args)
    if args.older_than_days <= 0:
        raise ConfigError(f"--older-than-days must be positive, got {args.older_than_days:g}")
    conn = Database(path).connect()
    try:
        # On the system's clock: a simulation's readings are days old on its timeline, not the machine's.
        now = system_now(conn, path)
        replaced = downsample(conn, now - args.older_than_days * 86_400.0)
    finally:
        conn.close()
    if args.json:
        print_json(
            {"database": str(path), "older_than_days": args.older_than_days, "readings_aggregated": replaced}
        )
    else:
        _out(f"aggregated {replaced} readings older than {args.older_than_days:g} days into one-minute rows")
    return 0


def add_parsers(sub: Any) -> None:
    db = sub.add_parser("db", help="check or back up the database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    check = db_sub.add_parser(
        "check", help="SQLite integrity, schema version, every ledger against a recomputation"
    )
    copy = db_sub.add_parser("backup", help="a consistent copy of the live database (SQLite online backup)")
    down = db_sub.add_parser(
        "downsample",
        help="readings older than a period into one-minute aggregates (the bridge does it hourly)",
    )
    down.add_argument("--older-than-days", type=float, default=90.0, help="default 90")
    down.set_defaults(func=cmd_downsample)
    for p in (check, copy, down):
        add_options(p, "db", "config", "json")
    copy.add_argument("dest", type=Path, metavar="DEST", help="file to write the backup to (replaced)")
    check.set_defaults(func=cmd_check)
    copy.set_defaults(func=cmd_backup)
