"""``vialguard uplink`` (a site's link to central), ``vialguard central`` (the fleet's server) and
``vialguard central-token`` (central's operator tokens, for its writes)."""

from __future__ import annotations

import argparse
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.errors import ConfigError
from monitor.store import Database
from monitor.tokens import Scope
from vialguard.actor import console_actor
from vialguard.commands import token_commands
from vialguard.commands.token_commands import Printed, TokenWords
from vialguard.options import SITE, add_options, clock_from, settings_from

if TYPE_CHECKING:
    import psycopg

    from fleet.central.operators import OperatorToken
from vialguard.signals import relay_signals

CENTRAL_PORT = 8100


def cmd_uplink(args: argparse.Namespace) -> int:
    from fleet.uplink.commands import SiteModel
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
    catalog = load_catalog(settings.drug_profiles_file)
    thresholds = thresholds_of(settings.rules.thresholds())
    home_assistant = None
    if fleet.home_assistant:
        home_assistant = HomeAssistantFeed(
            fleet.site,
            catalog,
            thresholds,
            fleet.home_assistant_prefix,
            fleet.home_assistant_seconds,
        )
    uplink = Uplink(
        settings.db_path,
        fleet,
        credentials_of(fleet, base),
        clock.wall,
        home_assistant=home_assistant,
        model=SiteModel(fleet.site, catalog, thresholds),
    )
    uplink.run(stop)
    return 0


def cmd_central(args: argparse.Namespace) -> int:
    try:
        from fleet.central.service import run_central
        from vialguard.central_sites import CentralSiteApi
    except ImportError as exc:  # psycopg: the central extra, never installed on a Pi
        raise ConfigError(
            f"central needs the 'central' extra (pip install 'vialguard[central]'): {exc}"
        ) from exc
    from fleet.mqtt import Credentials

    credentials = Credentials(args.mqtt_username, args.mqtt_password_file)
    if args.keep_days is not None and args.keep_days <= 0:
        raise ConfigError(f"--keep-days must be positive, got {args.keep_days}")
    run_central(
        args.database,
        args.mqtt,
        args.host,
        args.port,
        credentials,
        keep_days=args.keep_days,
        allowed_hosts=tuple(args.allowed_host),
        site_api=CentralSiteApi(),
    )
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


CENTRAL_WORDS = TokenWords(
    command="central-token",
    tokens="central's operator tokens (for its whole API): create (printed once), list, revoke",
    create="create an operator token and print it once",
    list="every operator token: name, scope, public id, state",
    revoke="revoke the live operator token of a name",
    name="the operator, e.g. pharmacy-lead",
    scope="read, write (commands to sites; includes read), admin (central's audit trail)",
    expires_in="refuse it after this long, e.g. 90d (default: until revoked)",
    revoke_name="the operator, e.g. pharmacy-lead",
)


def cmd_central_token(args: argparse.Namespace) -> int:
    """Create, list or revoke an operator token in central's database (migrated first)."""
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigError(f"central's tokens need the 'central' extra: {exc}") from exc
    from fleet.central.schema import migrate
    from fleet.errors import CentralUnavailable

    now = time.time()
    try:
        with psycopg.connect(args.database, connect_timeout=10, autocommit=True) as conn:
            migrate(conn)
            printed = token_commands.perform(args, CentralTokens(conn, now))
    except psycopg.Error as exc:
        raise CentralUnavailable(f"central's database: {exc}") from exc
    return token_commands.show(args, printed)


class CentralTokens:
    """Central's operator tokens over one connection to its PostgreSQL, at ``now`` (real time)."""

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]], now: float) -> None:
        self.conn = conn
        self.now = now

    def create(self, name: str, scope: Scope, expires_in_seconds: float | None) -> Printed:
        from fleet.central import operators

        expires = None if expires_in_seconds is None else self.now + expires_in_seconds
        record, text = operators.create(self.conn, name, scope, self.now, expires, console_actor())
        return Printed({**_described(record, self.now), "token": text}, text)

    def revoke(self, name: str) -> Printed:
        from fleet.central import operators

        record = operators.revoke(self.conn, name, self.now, console_actor())
        return Printed(_described(record, self.now), f"operator token {record.name!r} revoked")

    def list(self) -> Printed:
        from fleet.central import operators

        rows = [_described(r, self.now) for r in operators.list_all(self.conn)]
        text = "\n".join(f"{r['name']:<24} {r['scope']:<6} vg_{r['token_id']}_…  {r['state']}" for r in rows)
        return Printed(rows, text)


def _described(record: OperatorToken, now: float) -> dict[str, Any]:
    return {
        "name": record.name,
        "scope": record.scope,
        "token_id": record.token_id,
        "expires_ts": record.expires_ts,
        "state": record.state(now),
    }


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
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a name clients reach central by (Host), for the sites' APIs under /sites/; repeatable"
        " (IP addresses, loopback and this machine's name are always answered)",
    )
    central.add_argument(
        "--keep-days",
        type=float,
        metavar="DAYS",
        help="drop readings' monthly partitions once their month ended this long ago (default: keep all)",
    )
    central.set_defaults(func=cmd_central)
    token_commands.add_parsers(
        sub,
        CENTRAL_WORDS,
        lambda p: p.add_argument("--database", required=True, metavar="URL", help="central's PostgreSQL"),
        cmd_central_token,
    )
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
