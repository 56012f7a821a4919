"""``vialguard webhooks``: the webhook deliverer process alone (``vialguard run`` starts it when needed)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from monitor.config import Settings
from monitor.store import Database
from monitor.webhook_secrets import WebhookSecrets, load_webhook_secrets
from vialguard.options import SITE, add_options, clock_from, settings_from
from vialguard.signals import relay_signals
from vialguard.webhooks import Deliverer

log = logging.getLogger(__name__)


def webhook_secrets_of(settings: Settings) -> dict[str, WebhookSecrets]:
    """The secrets file's entries for the configured webhooks; none without a ``secrets_file``."""
    if settings.secrets_file is None:
        return {}
    return load_webhook_secrets(settings.secrets_file, [hook.url for hook in settings.webhooks])


def cmd_webhooks(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    database = Database(settings.db_path)
    database.initialise()
    stop = threading.Event()
    relay_signals({signal.SIGTERM: stop, signal.SIGINT: stop})
    if not settings.webhooks:
        log.info("no [[webhooks]] in the configuration: nothing to deliver")
    secrets = webhook_secrets_of(settings)
    deliverer = Deliverer(
        database, settings.webhooks, clock_from(args), site_name=settings.site_name, secrets=secrets
    )
    try:
        deliverer.run(stop)
    finally:
        deliverer.close()
    return 0


def add_parsers(sub: Any) -> None:
    parser = sub.add_parser("webhooks", help="deliver alert changes to the configured [[webhooks]] URLs")
    add_options(parser, *SITE, "speed")
    parser.set_defaults(func=cmd_webhooks)
