"""``vialguard webhooks``: the webhook deliverer process alone (``vialguard run`` starts it when needed)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from monitor.store import Database
from vialguard.options import SITE, add_options, clock_from, settings_from
from vialguard.signals import relay_signals
from vialguard.webhooks import Deliverer

log = logging.getLogger(__name__)


def cmd_webhooks(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    database = Database(settings.db_path)
    database.initialise()
    stop = threading.Event()
    relay_signals({signal.SIGTERM: stop, signal.SIGINT: stop})
    if not settings.webhooks:
        log.info("no [[webhooks]] in the configuration: nothing to deliver")
    deliverer = Deliverer(database, settings.webhooks, clock_from(args), site_name=settings.site_name)
    try:
        deliverer.run(stop)
    finally:
        deliverer.close()
    return 0


def add_parsers(sub: Any) -> None:
    parser = sub.add_parser("webhooks", help="deliver alert changes to the configured [[webhooks]] URLs")
    add_options(parser, *SITE, "speed")
    parser.set_defaults(func=cmd_webhooks)
