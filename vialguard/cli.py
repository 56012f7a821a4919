"""The ``vialguard`` command line: the parser tree, logging, and one exit status per outcome.

Errors a command raises on purpose end as one line on standard error (``vialguard: error: ...``) and the
status :mod:`vialguard.exits` gives their class; a closed standard output (``| head``) ends quietly.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import NoReturn

from monitor.version import version
from vialguard import exits
from vialguard.commands import (
    audit,
    db,
    firmware,
    fleet,
    predict,
    processes,
    sensors,
    tokens,
    validate,
    vials,
    webhooks,
)
from vialguard.logs import configure_logging

log = logging.getLogger(__name__)

# Each group registers its subcommands; see vialguard/commands/__init__.py.
COMMAND_GROUPS = (processes, sensors, vials, predict, validate, firmware, db, tokens, audit, webhooks, fleet)

LOG_LEVELS = ("debug", "info", "warning", "error")


def _log_level(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        type=str.lower,
        default=default,
        help="log messages from this level up, on standard error (default info)",
    )


def subcommands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser of the tree under ``parser`` with the words that reach it, ``parser`` first."""
    yield path, parser
    for action in parser._actions:  # argparse keeps its subparsers here and nowhere public
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from subcommands(child, (*path, name))


class _Parser(argparse.ArgumentParser):
    """argparse with a usage error on one line, pointing at the help, instead of the usage text and a line."""

    def error(self, message: str) -> NoReturn:
        self.exit(exits.USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vialguard",
        description="Light-exposure and temperature monitor for light-sensitive drug vials.",
        epilog=exits.epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    _log_level(parser, "info")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.add_parsers(sub)
    for path, p in subcommands(parser):
        if path:
            # Accepted after the command too (`vialguard run --log-level debug`); unset there, the
            # top-level value stands.
            _log_level(p, argparse.SUPPRESS)
            p.epilog = p.epilog or exits.epilog()
            if p.formatter_class is argparse.HelpFormatter:
                p.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """``parse_args``, but an option the command does not take is reported by that command's parser, which
    names it and its own help (``vialguard vials list --help``), not the top level's."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        leaf = parser
        while sub := next((a for a in leaf._actions if isinstance(a, argparse._SubParsersAction)), None):
            leaf = sub.choices[getattr(args, sub.dest)]
        leaf.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def one_line(exc: BaseException) -> str:
    """An error's message on one line: a settings error listing several keys joins them with '; '."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return f"{where}{exc.strerror}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines) or type(exc).__name__


def _closed_pipe() -> int:
    """Standard output's reader has gone: point it at /dev/null so the final flush cannot fail too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return exits.CLOSED_PIPE


def main(argv: list[str] | None = None) -> int:
    try:
        try:
            args = _parse(build_parser(), argv)
        finally:
            sys.stdout.flush()  # --help or --version into a closed pipe fails here, not at the exit
    except BrokenPipeError:
        return _closed_pipe()
    configure_logging(logging.getLevelNamesMapping()[args.log_level.upper()])
    func: Callable[[argparse.Namespace], int] = args.func
    log.debug("vialguard %s, Python %s: %s", version(), sys.version.split()[0], sys.argv)
    try:
        code = func(args)
        sys.stdout.flush()  # inside the try: a reader that left early fails this flush, not the exit's
    except BrokenPipeError:
        return _closed_pipe()
    except KeyboardInterrupt:
        return exits.INTERRUPTED
    except Exception as exc:
        status = exits.status_of(exc)
        if status == exits.INTERNAL:
            log.exception("internal error; please report it with this traceback")
        else:
            print(f"vialguard: error: {one_line(exc)}", file=sys.stderr)  # noqa: T201  # the user's terminal
        return status
    return code
