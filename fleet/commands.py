"""Central's commands to a site, and the site's results: the messages and their topics (JSON, QoS 1).

``vialguard/fleet/<site>/commands`` (central to site, not retained): an operator's write at central (an
alert acknowledged, a silence created or ended, a vial handed over) for the site that owns the alert or
the vial; and the receipt central relays to the site a vial was handed over to. Central publishes a
command until the site's result reaches it: at once, again whenever the site's status turns ``online``
(a site's session is clean, so the broker forgets what was published while it was away), and every
``resend_seconds`` meanwhile. The command's ``id`` is its idempotency key at the site.

``vialguard/fleet/<site>/results`` (site to central): ``applied`` or ``refused`` with the site's reason,
and what the site recorded (``detail``: the alert's state, the silence's id, the site's audit row).
The site applies a command once; a later delivery of the same ``id`` gets the stored result again.

Parsing raises :class:`fleet.protocol.ProtocolError` and nothing else, whatever the bytes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar, get_args

from fleet.protocol import (
    PROTOCOL_VERSION,
    TOPIC_ROOT,
    ProtocolError,
    message_object,
    number_field,
    text_field,
)

CommandKind = Literal[
    "alert.acknowledge", "silence.create", "silence.expire", "vial.hand-over", "vial.receive"
]
COMMAND_KINDS: tuple[CommandKind, ...] = get_args(CommandKind)
Outcome = Literal["applied", "refused"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
Word = TypeVar("Word", bound=str)


def command_topic(site: str) -> str:
    return f"{TOPIC_ROOT}/{site}/commands"


def result_topic(site: str) -> str:
    return f"{TOPIC_ROOT}/{site}/results"


@dataclass(frozen=True, slots=True)
class Command:
    """``args`` by kind: ``alert.acknowledge`` {alert_id, by, comment}; ``silence.create`` {matchers,
    starts_ts (null: when the site applies it), ends_ts or duration_seconds, created_by, comment};
    ``silence.expire`` {silence_id, by}; ``vial.hand-over`` {key, to_site, location, at (null: when the
    site applies it)}, whose result's detail carries the document; ``vial.receive`` {document, location,
    relayed_from (the hand-over's command)}. The site checks them and refuses what does not fit."""

    id: str
    site: str
    kind: CommandKind
    actor: str  # central's operator, as the site's audit trail names them
    args: dict[str, Any]
    issued_ts: float  # central's clock


@dataclass(frozen=True, slots=True)
class CommandResult:
    id: str
    site: str
    outcome: Outcome
    reason: str | None  # why the site refused it
    handled_ts: float  # the site's clock when it applied or refused the command
    detail: dict[str, Any] = field(default_factory=dict)


def _dict(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"{name}: expected an object")
    return value


def _one_of(value: Any, name: str, words: tuple[Word, ...]) -> Word:
    for word in words:
        if value == word:
            return word
    raise ProtocolError(f"{name}: {value!r} is not one of {', '.join(words)}")


def _site_message(payload: bytes, topic_site: str, what: str) -> dict[str, Any]:
    """The message on ``topic_site``'s topic: one naming another site is refused."""
    o = message_object(payload)
    if o.get("site") != topic_site:
        raise ProtocolError(f"a {what} for site {o.get('site')!r} on {topic_site!r}'s topic")
    return o


def _encode(message: Command | CommandResult) -> bytes:
    """The message's fields in their declared order, after the protocol's version."""
    return json.dumps(
        {"v": PROTOCOL_VERSION, **asdict(message)}, separators=(",", ":"), allow_nan=False
    ).encode()


def encode_command(command: Command) -> bytes:
    return _encode(command)


def decode_command(payload: bytes, topic_site: str) -> Command:
    """A command from ``topic_site``'s command topic: one naming another site is refused."""
    o = _site_message(payload, topic_site, "command")
    kind = _one_of(o.get("kind"), "kind", COMMAND_KINDS)
    return Command(
        id=text_field(o.get("id"), "id"),
        site=topic_site,
        kind=kind,
        actor=text_field(o.get("actor"), "actor"),
        args=_dict(o.get("args"), "args"),
        issued_ts=number_field(o.get("issued_ts"), "issued_ts"),
    )


def encode_result(result: CommandResult) -> bytes:
    return _encode(result)


def decode_result(payload: bytes, topic_site: str) -> CommandResult:
    """A result from ``topic_site``'s result topic: one naming another site is refused."""
    o = _site_message(payload, topic_site, "result")
    outcome = _one_of(o.get("outcome"), "outcome", OUTCOMES)
    reason = o.get("reason")
    if outcome == "refused":
        reason = text_field(reason, "reason")
    elif reason is not None:
        raise ProtocolError("reason: only a refused command has one")
    return CommandResult(
        id=text_field(o.get("id"), "id"),
        site=topic_site,
        outcome=outcome,
        reason=reason,
        handled_ts=number_field(o.get("handled_ts"), "handled_ts"),
        detail=_dict(o.get("detail", {}), "detail"),
    )
