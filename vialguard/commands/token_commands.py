"""The one implementation of the token commands, parameterised by the store that keeps the tokens.

``vialguard token`` keeps a site's API tokens in its SQLite file, ``vialguard central-token`` the fleet
central's operator tokens in its PostgreSQL: the same three subcommands (``create`` printed once, ``list``,
``revoke``), the same options and the same output, ``--json`` or a line. Each command hands :func:`run` a
:class:`TokenKeeper` over its store and a :class:`TokenWords` for its help.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from monitor.errors import ConfigError
from monitor.tokens import MAX_TOKEN_SECONDS, SCOPES, Scope
from vialguard.options import add_options, parse_duration, print_json


@dataclass(frozen=True, slots=True)
class Printed:
    """What a subcommand prints: ``json`` under ``--json``, else ``text`` (nothing when empty)."""

    json: Any
    text: str


class TokenKeeper(Protocol):
    """One store's tokens; each call is one audited write or one read, and returns what to print."""

    def create(self, name: str, scope: Scope, expires_in_seconds: float | None) -> Printed: ...

    def revoke(self, name: str) -> Printed: ...

    def list(self) -> Printed: ...


@dataclass(frozen=True, slots=True)
class TokenWords:
    """A token command's help texts, the only place the two commands' parsers differ."""

    command: str
    tokens: str  # the command's one-line help
    create: str
    list: str
    revoke: str
    name: str  # --name on create
    scope: str
    expires_in: str
    revoke_name: str | None  # --name on revoke


def expiry(text: str) -> float:
    """``--expires-in``: a duration (90d, 12h), more than nothing and at most ten years."""
    try:
        seconds = parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if not 0 < seconds <= MAX_TOKEN_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r}: an expiry must be more than 0 and at most ten years")
    return seconds


def perform(args: argparse.Namespace, keeper: TokenKeeper) -> Printed:
    """The subcommand ``args`` names, on ``keeper``."""
    if args.token_command == "create":
        return keeper.create(args.name, args.scope, args.expires_in)
    if args.token_command == "revoke":
        return keeper.revoke(args.name)
    return keeper.list()


def show(args: argparse.Namespace, printed: Printed) -> int:
    # A created token goes to standard output only, shown once: it is never stored or logged.
    if args.json:
        print_json(printed.json)
    elif printed.text:
        print(printed.text)  # noqa: T201  # command output
    return 0


def add_parsers(
    sub: Any,
    words: TokenWords,
    store_options: Callable[[argparse.ArgumentParser], object],
    func: Callable[[argparse.Namespace], int],
) -> None:
    """``words.command`` with its three subcommands, each with the store's options and ``--json``."""
    token = sub.add_parser(words.command, help=words.tokens)
    inner = token.add_subparsers(dest="token_command", required=True)
    for name, text in (("create", words.create), ("list", words.list), ("revoke", words.revoke)):
        command = inner.add_parser(name, help=text)
        store_options(command)
        add_options(command, "json")
        if name == "create":
            command.add_argument("--name", required=True, help=words.name)
            command.add_argument("--scope", required=True, choices=SCOPES, help=words.scope)
            command.add_argument("--expires-in", type=expiry, metavar="DURATION", help=words.expires_in)
        elif name == "revoke":
            command.add_argument("--name", required=True, help=words.revoke_name)
        command.set_defaults(func=func)
