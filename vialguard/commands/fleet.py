"""``vialguard uplink`` (a site's link to central) and ``vialguard central`` (the fleet's server)."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.store import Database
from vialguard.options import SITE, add_options, clock_from, settings_from
from vialguard.signals import relay_signals

CENTRAL_PORT = 8100


def cmd_uplink(args: argparse.Namespace) -> int:
    from fleet.uplink.home_assistant import HomeAssistantFeed
    from fleet.uplink.service import Uplink, credentials_of
    from monitor.assessment import thresholds_of
    from monitor.model.profiles import load_catalog

    settings = settings_from(args)
    if settings.fleet is None:
        raise ConfigError("the settings have no [fleet] table (site, mqtt): there is no central to uplink to")
    clock = clock_from(args)
    Database(settings.db_path).initialise()
    base = args.config.parent if args.config is not None else Path.cwd()
    stop = threading.Event()
    relay_signals({signal.SIGTERM: stop, signal.SIGINT: stop})
    fleet = settings.fleet
    home_assistant = None
    if fleet.home_assistant:
        home_assistant = HomeAssistantFeed(
            fleet.site,
            load_catalog(settings.drug_profiles_file),
            thresholds_of(settings.rules.thresholds()),
            fleet.home_assistant_prefix,
            fleet.home_assistant_seconds,
        )
    uplink = Uplink(
        settings.db_path,
        fleet,
        credentials_of(fleet, base),
        clock.wall,
        home_assistant=home_assistant,
    )
    uplink.run(stop)
    return 0


def cmd_central(args: argparse.Namespace) -> int:
    try:
        from fleet.central.service import run_central
    except ImportError as exc:  # psycopg: the central extra, never installed on a Pi
        raise ConfigError(
            f"central needs the 'central' extra (pip install 'vialguard[central]'): {exc}"
        ) from exc
    from fleet.mqtt import Credentials

    credentials = Credentials(args.mqtt_username, args.mqtt_password_file)
    if args.keep_days is not None and args.keep_days <= 0:
        raise ConfigError(f"--keep-days must be positive, got {args.keep_days}")
    run_central(args.database, args.mqtt, args.host, args.port, credentials, keep_days=args.keep_days)
    return 0


def cmd_fleet_demo(args: argparse.Namespace) -> int:
    try:
        from fleet.demo import run_demo
    except ImportError as exc:
        raise ConfigError(f"the fleet demo needs the 'central' extra: {exc}") from exc
    if args.sites < 1:
        raise ConfigError(f"--sites must be at least 1, got {args.sites}")
    stop = threading.Event()
    relay_signals({signal.SIGTERM: stop, signal.SIGINT: stop})
    return run_demo(args.sites, args.speed, args.dir, args.port, stop)


def add_parsers(sub: Any) -> None:
    uplink = sub.add_parser("uplink", help="send this site's rows to the fleet's central over MQTT")
    add_options(uplink, *SITE, "speed")
    uplink.set_defaults(func=cmd_uplink)
    central = sub.add_parser("central", help="the fleet's central: ingest every site into PostgreSQL, serve")
    central.add_argument("--database", required=True, metavar="URL", help="postgresql://USER@HOST:PORT/DB")
    central.add_argument("--mqtt", required=True, metavar="URL", help="the broker: mqtt://HOST[:PORT]")
    central.add_argument("--mqtt-username", metavar="NAME")
    central.add_argument("--mqtt-password-file", type=Path, metavar="FILE")
    central.add_argument("--host", default="127.0.0.1", help="API bind address (default 127.0.0.1)")
    central.add_argument("--port", type=int, default=CENTRAL_PORT, help=f"API port (default {CENTRAL_PORT})")
    central.add_argument(
        "--keep-days",
        type=float,
        metavar="DAYS",
        help="drop readings' monthly partitions once their month ended this long ago (default: keep all)",
    )
    central.set_defaults(func=cmd_central)
    demo = sub.add_parser(
        "fleet-demo", help="a private broker, PostgreSQL, central and N simulated sites, supervised"
    )
    demo.add_argument("--sites", type=int, default=3, help="simulated sites (default 3)")
    demo.add_argument("--speed", type=float, default=60.0, help="simulated seconds a second (default 60)")
    demo.add_argument("--dir", type=Path, default=Path("var/fleet-demo"), help="where its files go")
    demo.add_argument(
        "--port", type=int, default=CENTRAL_PORT, help=f"central's port (default {CENTRAL_PORT})"
    )
    demo.set_defaults(func=cmd_fleet_demo)
