"""``vialguard run``, ``vialguard bridge`` and ``vialguard api``: the system's processes."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from typing import Any

from hardware.clock import WarpClock
from monitor.resume import resume_origin
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store.spool import Spool
from vialguard import clocks
from vialguard.options import add_common, clock_from, settings_from
from vialguard.signals import relay_signals
from vialguard.supervisor import Child, child_argv, supervise


def _passthrough(args: argparse.Namespace, sim_origin: float, real_origin: float) -> list[str]:
    out: list[str] = []
    if args.config is not None:
        out += ["--config", str(args.config)]
    if args.db is not None:
        out += ["--db", str(args.db)]
    if args.simulate:
        out += [
            "--simulate",
            "--speed",
            repr(args.speed),
            "--sim-origin",
            repr(sim_origin),
            "--real-origin",
            repr(real_origin),
        ]
    for sc in args.scenario:
        out += ["--scenario", sc]
    if args.host is not None:
        out += ["--host", args.host]
    if args.port is not None:
        out += ["--port", str(args.port)]
    return out


def _where(args: argparse.Namespace) -> str:
    """The options that point another command at the same settings and database."""
    out = f" --config {args.config}" if args.config is not None else " --simulate" if args.simulate else ""
    return out + (f" --db {args.db}" if args.db is not None else "")


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    try:
        # Resume a simulation after everything it recorded (committed or spooled), so its readings stay
        # in time order; and publish its clock, so that commands run beside it write on its timeline.
        sim_origin = time.time()
        if args.simulate:
            sim_origin = resume_origin(conn, Spool.beside(settings.db_path), sim_origin)
        real_origin = time.monotonic()  # CLOCK_MONOTONIC: the same in the children
        if args.simulate:
            clocks.record(conn, WarpClock(args.speed, sim_origin, real_origin), os.getpid())
        else:  # real sensors: an earlier simulation's clock no longer stands, whatever reuses its pid
            clocks.forget(conn)
        sync_site(conn, settings, sim_origin)
    finally:
        conn.close()
    passthrough = _passthrough(args, sim_origin, real_origin)
    url = f"http://{settings.api.host}:{settings.api.port}"
    mode = f"simulated at {args.speed:g}x" if args.simulate else "real sensors"
    message = (
        f"vialguard is running ({mode}).\n"
        f"  dashboard:  {url}/\n"
        f"  API:        {url}/api/v1/alerts   {url}/api/v1/vials   {url}/api/v1/locations\n"
        f"  API docs:   {url}/docs\n"
        f"  health:     {url}/healthz\n"
        f"  database:   {settings.db_path}\n"
        f"  a token:    vialguard token create{_where(args)} --scope write --name NAME"
        f"   (writes, such as acknowledging, need one)\n"
        f"Press Ctrl-C to stop."
    )
    children = [
        Child("bridge", child_argv("bridge", passthrough)),
        Child("api", child_argv("api", passthrough)),
    ]
    if settings.webhooks:  # a third process, so a slow receiver never delays the bridge or the API
        children.append(Child("webhooks", child_argv("webhooks", passthrough)))
    return supervise(children, message)


def cmd_bridge(args: argparse.Namespace) -> int:
    from firmware_bridge.service import run_bridge

    settings = settings_from(args)
    clock = clock_from(args)
    if isinstance(clock, WarpClock) and args.sim_origin is None:  # a simulation's bridge run on its own
        database = Database(settings.db_path)
        database.initialise()
        conn = database.connect()
        try:
            if clocks.running(conn) is None:  # its own clock, not one it joined: publish it
                clocks.record(conn, clock, os.getpid())
        finally:
            conn.close()
    stop = threading.Event()
    relay_signals({signal.SIGTERM: stop, signal.SIGINT: stop})
    run_bridge(settings, clock, stop, simulate=args.simulate)
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    from api.app import create_app
    from api.server import serve

    settings = settings_from(args)
    serve(create_app(settings, clock_from(args)), settings.api.host, settings.api.port)
    return 0


def add_parsers(sub: Any) -> None:
    for name, helptext, func in (
        ("run", "start the bridge, the API and any webhook deliverer (Ctrl-C stops all)", cmd_run),
        ("bridge", "the sensor-bridge process alone", cmd_bridge),
        ("api", "the API process alone", cmd_api),
    ):
        parser = sub.add_parser(name, help=helptext)
        add_common(parser)
        parser.set_defaults(func=func)
