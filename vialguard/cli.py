"""The ``vialguard`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from hardware.errors import HardwareError
from monitor.errors import VialguardError
from vialguard.commands import audit, db, firmware, predict, processes, sensors, tokens, vials, webhooks
from vialguard.logs import configure_logging

# Each group registers its subcommands; see vialguard/commands/__init__.py.
COMMAND_GROUPS = (processes, sensors, vials, predict, firmware, db, tokens, audit, webhooks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vialguard", description="Light-exposure and temperature monitor for light-sensitive drug vials."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(logging.INFO)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (VialguardError, HardwareError) as exc:
        print(f"vialguard: error: {exc}", file=sys.stderr)  # noqa: T201  # the user's terminal
        return 2
