"""The ``vialguard`` command: run (both processes), bridge, api."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from types import FrameType

from monitor.errors import VialguardError
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store import health as health_store
from vialguard.options import add_common, clock_from, settings_from
from vialguard.supervisor import Child, child_argv, supervise

log = logging.getLogger("vialguard")


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


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    try:
        # Resume a simulation where the last one stopped, so its readings stay in time order.
        beat = health_store.read(conn)
        sim_origin = time.time() if beat is None or not args.simulate else max(time.time(), beat.sim_ts + 1.0)
        sync_site(conn, settings, sim_origin)
    finally:
        conn.close()
    real_origin = time.monotonic()  # CLOCK_MONOTONIC: the same in the children
    passthrough = _passthrough(args, sim_origin, real_origin)
    url = f"http://{settings.api.host}:{settings.api.port}"
    mode = f"simulated at {args.speed:g}x" if args.simulate else "real sensors"
    message = (
        f"vialguard is running ({mode}).\n"
        f"  API:        {url}/api/v1/alerts   {url}/api/v1/vials   {url}/api/v1/locations\n"
        f"  API docs:   {url}/docs\n"
        f"  health:     {url}/healthz\n"
        f"  database:   {settings.db_path}\n"
        f"Press Ctrl-C to stop."
    )
    return supervise(
        [Child("bridge", child_argv("bridge", passthrough)), Child("api", child_argv("api", passthrough))],
        message,
    )


def cmd_bridge(args: argparse.Namespace) -> int:
    from firmware_bridge.service import run_bridge

    settings = settings_from(args)
    clock = clock_from(args)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    run_bridge(settings, clock, stop, simulate=args.simulate)
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = settings_from(args)
    app = create_app(settings, clock_from(args))
    uvicorn.run(app, host=settings.api.host, port=settings.api.port, log_level="warning")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vialguard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("run", "start the bridge and the API, supervised (Ctrl-C stops both)"),
        ("bridge", "the sensor-bridge process alone"),
        ("api", "the API process alone"),
    ):
        add_common(sub.add_parser(name, help=helptext))
    return parser


COMMANDS = {"run": cmd_run, "bridge": cmd_bridge, "api": cmd_api}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except VialguardError as exc:
        print(f"vialguard: error: {exc}", file=sys.stderr)  # noqa: T201  # the user's terminal
        return 2
