"""``vialguard run``, ``vialguard bridge`` and ``vialguard api``: the system's processes."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from hardware.clock import StopEvent, WarpClock
from monitor.config import Settings
from monitor.resume import resume_origin
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store.spool import Spool
from vialguard import clocks, preflight
from vialguard.commands.webhooks import webhook_secrets_of
from vialguard.options import SITE, add_options, clock_from, settings_from
from vialguard.signals import relay_signals
from vialguard.supervisor import Child, child_argv, supervise

# Beyond the settings, database, simulated clock and log level that every child shares: the options each
# takes of those `vialguard run` was given (the API alone listens; the bridge alone simulates events).
_CHILD_OPTIONS = {
    "bridge": frozenset({"scenario"}),
    "api": frozenset({"listen"}),
    "webhooks": frozenset(),
    "uplink": frozenset(),
}


def _passthrough(args: argparse.Namespace, child: str, sim_origin: float, real_origin: float) -> list[str]:
    takes = _CHILD_OPTIONS[child]
    out: list[str] = ["--log-level", args.log_level]
    if args.config is not None:
        out += ["--config", str(args.config)]
    if args.db is not None:
        out += ["--db", str(args.db)]
    if args.simulate:
        out += ["--simulate", "--speed", repr(args.speed)]
        out += ["--sim-origin", repr(sim_origin), "--real-origin", repr(real_origin)]
    if "scenario" in takes:
        for sc in args.scenario:
            out += ["--scenario", sc]
    if "listen" in takes:
        if args.host is not None:
            out += ["--host", args.host]
        if args.port is not None:
            out += ["--port", str(args.port)]
    return out


def invocation() -> str:
    """How the user's shell reaches this vialguard: the bare name if it is the one on PATH, else its path.

    `make run` starts ``.venv/bin/vialguard``, which is not on PATH: a banner that said ``vialguard token
    create`` would print a command that fails as printed.
    """
    script = Path(sys.executable).parent / "vialguard"
    if not script.is_file():
        return shlex.join([sys.executable, "-m", "vialguard"])
    on_path = shutil.which("vialguard")
    if on_path is not None and Path(on_path).resolve() == script.resolve():
        return "vialguard"
    try:
        return shlex.quote(str(script.relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(script))


def _where(args: argparse.Namespace) -> str:
    """The options that point another command at the same settings and database."""
    if args.config is not None:
        out = ["--config", str(args.config)]
    else:
        out = ["--simulate"] if args.simulate else []
    if args.db is not None:
        out += ["--db", str(args.db)]
    return shlex.join(out)


def banner(args: argparse.Namespace, settings: Settings) -> str:
    """`vialguard run`'s greeting: where to look, and commands that work as printed in the same shell."""
    url = f"http://{settings.api.host}:{settings.api.port}"
    mode = f"simulated at {args.speed:g}x" if args.simulate else "real sensors"
    return (
        f"vialguard is running ({mode}).\n"
        f"  dashboard:  {url}/\n"
        f"  API:        {url}/api/v1/alerts   {url}/api/v1/vials   {url}/api/v1/locations\n"
        f"  API docs:   {url}/docs\n"
        f"  health:     {url}/healthz\n"
        f"  database:   {settings.db_path}\n"
        f"  a token:    {invocation()} token create {_where(args)} --scope write --name NAME"
        f"   (writes, such as acknowledging, need one)\n"
        f"Press Ctrl-C to stop."
    )


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    preflight.check_run(args, settings)  # every setting the children would refuse, before any starts
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
    names = ["bridge", "api"]
    if settings.webhooks:  # a third process, so a slow receiver never delays the bridge or the API
        webhook_secrets_of(settings)  # a bad secrets file stops here, named, not in a restarting child
        names.append("webhooks")
    if settings.fleet is not None:  # the link to the fleet's central, apart so a dead network delays nothing
        names.append("uplink")
    children = [Child(n, child_argv(n, _passthrough(args, n, sim_origin, real_origin))) for n in names]
    return supervise(children, banner(args, settings))


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
    stop = StopEvent()  # the loop waits on it once a second all day: a cheaper wait
    relay_signals({signal.SIGTERM: stop, signal.SIGINT: stop})
    run_bridge(settings, clock, stop, simulate=args.simulate)
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    from api.server import serve
    from api.startup import sqlite_app

    settings = settings_from(args)
    # A taken port is a configuration error (exit 2, which the supervisor does not restart), named here
    # rather than in uvicorn's log after the app has started.
    preflight.check_port(settings.api.host, settings.api.port, preflight.origin_of(args))
    serve(sqlite_app(settings, clock_from(args)), settings.api.host, settings.api.port)
    return 0


def add_parsers(sub: Any) -> None:
    for name, helptext, func, options in (
        (
            "run",
            "start the bridge, the API and any webhook deliverer (Ctrl-C stops all)",
            cmd_run,
            (*SITE, "speed", "scenario", "listen"),
        ),
        ("bridge", "the sensor-bridge process alone", cmd_bridge, (*SITE, "speed", "scenario")),
        ("api", "the API process alone", cmd_api, (*SITE, "speed", "listen")),
    ):
        parser = sub.add_parser(name, help=helptext)
        add_options(parser, *options)
        parser.set_defaults(func=func)
