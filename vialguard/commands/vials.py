"""``vialguard vials list``, ``vials event``, ``vials hand-over`` and ``vials receive``: each vial's
potency, what happened to it and when, and its move to another site with its state.

They work on the database directly, with the same model and the same checks as the API, so a pharmacist
at the Pi's console can record "reconstituted at 09:10" without a browser.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor import handover, handover_audited, lifecycle
from monitor.assessment import assess, thresholds_of
from monitor.config import Settings
from monitor.errors import ConfigError, InvalidRequest, NotFound
from monitor.model.profiles import Catalog, load_catalog
from monitor.site_sync import sync_site
from monitor.store import Database, handovers, sites
from monitor.store import audit as audit_store
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from monitor.timestamps import iso_utc
from vialguard.actor import console_actor
from vialguard.clocks import system_now
from vialguard.options import SITE, add_options, parse_duration, print_json, settings_from


def _open_readonly(args: argparse.Namespace) -> tuple[Settings, sqlite3.Connection, Catalog]:
    """For reading: the database as it is, never created, migrated nor given the config's site."""
    settings = settings_from(args)
    conn = Database(settings.db_path).connect_readonly()
    return settings, conn, load_catalog(settings.drug_profiles_file)


def _open(args: argparse.Namespace) -> tuple[Settings, sqlite3.Connection, Catalog]:
    settings = settings_from(args)
    database = Database(settings.db_path)
    database.initialise()
    conn = database.connect()
    sync_site(conn, settings, system_now(conn, settings.db_path))  # idempotent: seeds a new database
    return settings, conn, load_catalog(settings.drug_profiles_file)


def _row(
    conn: sqlite3.Connection, catalog: Catalog, vial: vial_store.VialRecord, settings: Settings, now: float
) -> dict[str, Any]:
    a = assess(conn, catalog, vial, thresholds_of(settings.rules.thresholds()), now=now)
    p, v = a.potency, a.verdict
    moves = handovers.of_vial(conn, vial.id)
    arrived = [m for m in moves if m.direction == "in"]
    left = [m for m in moves if m.direction == "out"]
    return {
        "key": vial.key,
        "form": vial.form,
        "status": vial.status,
        "location": None if p.location_id is None else sites.location_by_id(conn, p.location_id).key,
        "packaging": p.packaging,
        "potency_percent": {
            "best": round(p.percent_range.best, 3),
            "low": round(p.percent_range.low, 3),
            "high": round(p.percent_range.high, 3),
        },
        "effective_lux_hours": round(p.effective_lux_hours, 3),
        "verdict": v.facts(),
        "verdict_at": iso_utc(now),
        "received_from": arrived[-1].peer_site if arrived else None,
        "received_at": iso_utc(arrived[-1].ts) if arrived else None,
        "handed_over_to": left[-1].peer_site if left and vial.status == "handed-over" else None,
        "handed_over_at": iso_utc(left[-1].ts) if left and vial.status == "handed-over" else None,
    }


def cmd_list(args: argparse.Namespace) -> int:
    settings, conn, catalog = _open_readonly(args)
    try:
        # One instant for every row, on the system's clock (a running simulation's time, not the machine's).
        now = system_now(conn, settings.db_path)
        rows = [_row(conn, catalog, v, settings, now) for v in vial_store.list_all(conn)]
    finally:
        conn.close()
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))  # noqa: T201  # command output
        return 0
    print(  # noqa: T201  # command output
        f"{'vial':<16} {'verdict':<11} {'status':<12} {'location':<12} {'packaging':<22}"
        f" {'potency % best (low-high)':<26} {'lux·h':>9}  time left (to do not use)"
    )
    for r in rows:
        p, v = r["potency_percent"], r["verdict"]
        print(  # noqa: T201
            f"{r['key']:<16} {v['label']:<11} {r['status']:<12} {r['location'] or '-':<12}"
            f" {r['packaging'] or '-':<22} {p['best']:7.2f} ({p['low']:.2f}-{p['high']:.2f}){'':<4}"
            f" {r['effective_lux_hours']:>9.1f}  {v['time_left']}"
        )
    rules = settings.rules
    print(  # noqa: T201
        f"verdicts read the potency's low bound, as the alerts do: below {rules.potency_warning_percent:g} %"
        f" watch, below {rules.potency_critical_percent:g} % do not use"
    )
    return 0


def _when(args: argparse.Namespace, now: float) -> float:
    if args.at is not None and args.ago is not None:
        raise ConfigError("--at and --ago: give one of them")
    if args.ago is not None:
        return now - parse_duration(args.ago)
    if args.at is None:
        return now
    try:
        at = datetime.fromisoformat(args.at)
    except ValueError:
        raise ConfigError(f"--at: {args.at!r} is not an ISO 8601 time (e.g. 2026-11-25T09:10:00Z)") from None
    if at.tzinfo is None:
        raise ConfigError(f"--at: {args.at!r} needs a time zone (e.g. 2026-11-25T09:10:00Z or +09:00)")
    return at.timestamp()


def cmd_event(args: argparse.Namespace) -> int:
    settings, conn, catalog = _open(args)
    try:
        # The system's clock: in a running simulation its time, so "now" and --ago are on its timeline.
        now = system_now(conn, settings.db_path)
        vial = vial_store.by_key(conn, args.vial)
        if vial is None:
            raise NotFound(f"no vial with key {args.vial!r}")
        event = lifecycle.NewEvent(args.kind, _when(args, now), args.location, args.packaging, args.detail)
        with transaction(conn):
            event_id = lifecycle.record_event(conn, catalog, vial, event, now)
            detail = {"event_id": event_id, "kind": args.kind, "at": event.ts, "location": args.location}
            detail |= {"packaging": args.packaging, "detail": args.detail}
            audit_store.append(conn, now, console_actor(), f"vial.{args.kind}", f"vial:{vial.key}", detail)
        row = _row(conn, catalog, vial_store.get(conn, vial.id), settings, now)
    finally:
        conn.close()
    if args.json:
        print_json({"event_id": event_id, "kind": args.kind, "at": event.ts, "vial": row})
        return 0
    p, v = row["potency_percent"], row["verdict"]
    print(  # noqa: T201  # command output
        f"{args.vial}: {args.kind} recorded; potency {p['best']:.2f} %"
        f" (low {p['low']:.2f}, high {p['high']:.2f}); {v['label']}, time left {v['time_left']}"
    )
    return 0


def cmd_hand_over(args: argparse.Namespace) -> int:
    settings, conn, catalog = _open(args)
    try:
        now = system_now(conn, settings.db_path)
        vial = vial_store.by_key(conn, args.vial)
        if vial is None:
            raise NotFound(f"no vial with key {args.vial!r}")
        ts = _when(args, now)
        with transaction(conn):
            done = handover_audited.hand_over(
                conn,
                catalog,
                vial,
                from_site=handover.site_of(settings),
                to_site=args.to,
                ts=ts,
                now=now,
                thresholds=thresholds_of(settings.rules.thresholds()),
                actor=console_actor(),
            )
        row = _row(conn, catalog, vial_store.get(conn, vial.id), settings, now)
    finally:
        conn.close()
    text = json.dumps(done.document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if args.out is not None:
        Path(args.out).write_text(text, encoding="utf-8")
    if args.json:
        print_json({"document": done.document, "vial": row})
        return 0
    if args.out is None:
        sys.stdout.write(text)
        return 0
    p = done.document["potency_percent"]
    print(  # noqa: T201  # command output
        f"{args.vial}: handed over to {args.to}; potency then {p['best']:.2f} % (low {p['low']:.2f},"
        f" high {p['high']:.2f}); document in {args.out}: take it to `vialguard vials receive` there"
    )
    return 0


def _document(path: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        found = json.loads(text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the hand-over document: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"document: {path} is not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(found, dict):
        raise InvalidRequest(f"document: {path} holds no hand-over document (a JSON object)")
    return found


def cmd_receive(args: argparse.Namespace) -> int:
    document = _document(args.document)
    settings, conn, catalog = _open(args)
    try:
        now = system_now(conn, settings.db_path)
        with transaction(conn):
            receipt = handover_audited.receive(
                conn,
                catalog,
                document,
                site=handover.site_of(settings),
                location=args.location,
                now=now,
                actor=console_actor(),
            )
            vial = vial_store.get(conn, receipt.vial_id)
        row = _row(conn, catalog, vial, settings, now)
    finally:
        conn.close()
    if args.json:
        print_json({"repeated": receipt.repeated, "vial": row})
        return 0
    p, v = row["potency_percent"], row["verdict"]
    again = " (received before: nothing changed)" if receipt.repeated else ""
    print(  # noqa: T201  # command output
        f"{vial.key}: received from {row['received_from']} at {args.location}{again}; potency"
        f" {p['best']:.2f} % (low {p['low']:.2f}, high {p['high']:.2f}); {v['label']},"
        f" time left {v['time_left']}"
    )
    return 0


def add_parsers(sub: Any) -> None:
    vials = sub.add_parser("vials", help="vials: potency with bounds, and lifecycle events")
    inner = vials.add_subparsers(dest="vials_command", required=True)
    listing = inner.add_parser("list", help="every vial: potency best (low-high), dose, time to threshold")
    add_options(listing, *SITE, "json")
    listing.set_defaults(func=cmd_list)
    event = inner.add_parser("event", help="record what happened to a vial, at the time it happened")
    add_options(event, *SITE, "json")
    event.add_argument("vial", help="the vial's key, e.g. roze-0001")
    event.add_argument(
        "kind",
        choices=["moved", "packaging-changed", "reconstituted", "administered", "discarded"],
        help="what happened",
    )
    event.add_argument("--at", help="when, ISO 8601 with a zone (default now)")
    event.add_argument("--ago", help="when, as a time before now: 90, 10m, 2h")
    event.add_argument("--location", help="the location key after the event (needed by moved)")
    event.add_argument(
        "--packaging", help="the packaging state after it (needed by packaging-changed), e.g. syringe"
    )
    event.add_argument("--detail", default="", help="free text, e.g. who and why")
    event.set_defaults(func=cmd_event)
    out = inner.add_parser(
        "hand-over", help="hand a vial over to another site: prints the document that carries its state"
    )
    add_options(out, *SITE, "json")
    out.add_argument("vial", help="the vial's key, e.g. roze-0001")
    out.add_argument("--to", required=True, help="the receiving site's name ([fleet] site or site_name)")
    out.add_argument("--at", help="when it left, ISO 8601 with a zone (default now)")
    out.add_argument("--ago", help="when it left, as a time before now: 90, 10m, 2h")
    out.add_argument("--out", help="write the document to this file (default: print it)")
    out.set_defaults(func=cmd_hand_over)
    into = inner.add_parser("receive", help="receive a vial from another site with its hand-over document")
    add_options(into, *SITE, "json")
    into.add_argument("document", help="the hand-over document's file, or - for standard input")
    into.add_argument("--location", required=True, help="the location here it goes to")
    into.set_defaults(func=cmd_receive)
