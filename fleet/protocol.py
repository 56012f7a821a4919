"""The messages between a site's uplink and central, and their MQTT topics (JSON, QoS 1).

``vialguard/fleet/<site>/batch`` (site to central): rows numbered ``seq`` in the site's ``epoch``, each
batch consecutive; ``base`` is the last number before the epoch began, so central knows where a new epoch
starts. A batch without rows asks central where it stands (and says the site is alive).

``vialguard/fleet/<site>/ack`` (central to site, retained): every row of ``epoch`` through ``through`` is
committed at central. A batch that does not continue from there is refused whole and named in
``refused_first``, so the site sends again from ``through + 1`` at once.

Ownership (optional fields, so a site or a central without them goes on as before): a batch with rows
carries ``chain`` (``before``, the site's running digest through the row before its first, and ``after``,
through its last: :func:`monitor.store.outbox_chain.chain`), and the acknowledgement the digest central stored
at its point (``digest``). Central takes new rows only from a batch whose ``before`` is its digest at the
point; a site whose own digest at central's point differs draws a new epoch, and says so in ``fork``
(``from``, the epoch it replaces, and ``reason``) on every batch of it.

``vialguard/fleet/<site>/status`` and ``vialguard/fleet/central/status`` (retained): ``online`` or
``offline``, the latter set by the broker as the client's last will when its connection drops.

Parsing raises :class:`ProtocolError` and nothing else, whatever the bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSION = 1
TOPIC_ROOT = "vialguard/fleet"
CENTRAL = "central"  # central's status topic sits where a site's would: no site may take the name
ONLINE = b"online"
OFFLINE = b"offline"


class ProtocolError(ValueError):
    """A message that is not one of ours (the text says what is wrong)."""


def batch_topic(site: str) -> str:
    return f"{TOPIC_ROOT}/{site}/batch"


def ack_topic(site: str) -> str:
    return f"{TOPIC_ROOT}/{site}/ack"


def status_topic(site: str) -> str:
    return f"{TOPIC_ROOT}/{site}/status"


def site_of(topic: str) -> str:
    """The site a topic of ours names."""
    parts = topic.split("/")
    if len(parts) != 4 or "/".join(parts[:2]) != TOPIC_ROOT:
        raise ProtocolError(f"not a fleet topic: {topic!r}")
    return parts[2]


@dataclass(frozen=True, slots=True)
class Row:
    seq: int
    kind: str
    record: dict[str, Any] | None  # None: a number whose row the site no longer holds


@dataclass(frozen=True, slots=True)
class Chain:
    before: str  # the site's digest through the row before the batch's first
    after: str  # through its last


@dataclass(frozen=True, slots=True)
class Fork:
    """Why the site drew the batch's epoch, and the one it replaced (None: unknown, a restored backup)."""

    parent: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Batch:
    site: str
    epoch: str
    base: int
    rows: tuple[Row, ...]
    sent_ts: float  # the site's real clock when sent: central's receive time minus this is the skew
    numbered_through: int  # the last number the site has given: its backlog is this minus central's point
    backlog_oldest_queued_ts: float | None  # the site's real clock when its oldest unacknowledged row queued
    chain: Chain | None = None  # None: a site that sends no digests, or a batch without rows
    fork: Fork | None = None

    @property
    def first(self) -> int | None:
        return self.rows[0].seq if self.rows else None

    @property
    def last(self) -> int | None:
        return self.rows[-1].seq if self.rows else None


@dataclass(frozen=True, slots=True)
class Ack:
    epoch: str
    through: int
    refused_first: int | None = None
    digest: str | None = None  # the site's digest through ``through``, as central stored it


def _finite(value: Any) -> Any:
    """JSON has no infinity or NaN: such a number travels as null (as the API writes it)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def encode_batch(batch: Batch) -> bytes:
    extra: dict[str, Any] = {}
    if batch.chain is not None:
        extra["chain"] = {"before": batch.chain.before, "after": batch.chain.after}
    if batch.fork is not None:
        extra["fork"] = {"from": batch.fork.parent, "reason": batch.fork.reason}
    return json.dumps(
        {
            **extra,
            "v": PROTOCOL_VERSION,
            "site": batch.site,
            "epoch": batch.epoch,
            "base": batch.base,
            "sent_ts": batch.sent_ts,
            "backlog": {
                "through": batch.numbered_through,
                "oldest_queued_ts": batch.backlog_oldest_queued_ts,
            },
            "rows": [
                {
                    "seq": r.seq,
                    "kind": r.kind,
                    "record": None if r.record is None else {k: _finite(v) for k, v in r.record.items()},
                }
                for r in batch.rows
            ],
        },
        separators=(",", ":"),
        allow_nan=False,
    ).encode()


# The field readers every message of the fleet decodes with (here and in fleet/commands.py): one wording
# of each refusal.
def message_object(payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ProtocolError("not a JSON object")
    if value.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {value.get('v')!r}, expected {PROTOCOL_VERSION}")
    return value


def int_field(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(f"{name}: expected a non-negative integer")
    return value


def text_field(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"{name}: expected a non-empty string")
    return value


def _digest(value: Any, name: str) -> str:
    """A digest: empty where a site's chain began (its anchor)."""
    if not isinstance(value, str):
        raise ProtocolError(f"{name}: expected a string")
    return value


def number_field(value: Any, name: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ProtocolError(f"{name}: expected a number")
    return float(value)


def decode_batch(payload: bytes, topic_site: str) -> Batch:
    """A batch from the topic of ``topic_site``: a batch naming another site is refused."""
    o = message_object(payload)
    if o.get("site") != topic_site:
        raise ProtocolError(f"a batch for site {o.get('site')!r} on {topic_site!r}'s topic")
    rows_in = o.get("rows")
    backlog = o.get("backlog")
    if not isinstance(rows_in, list) or not isinstance(backlog, dict):
        raise ProtocolError("rows and backlog: expected a list and an object")
    rows: list[Row] = []
    for i, r in enumerate(rows_in):
        if not isinstance(r, dict):
            raise ProtocolError(f"rows[{i}]: expected an object")
        record = r.get("record")
        if record is not None and not isinstance(record, dict):
            raise ProtocolError(f"rows[{i}].record: expected an object or null")
        row = Row(
            int_field(r.get("seq"), f"rows[{i}].seq"), text_field(r.get("kind"), f"rows[{i}].kind"), record
        )
        if rows and row.seq != rows[-1].seq + 1:
            raise ProtocolError(f"rows[{i}].seq: {row.seq} does not follow {rows[-1].seq}")
        rows.append(row)
    oldest = backlog.get("oldest_queued_ts")
    chain = o.get("chain")
    fork = o.get("fork")
    if chain is not None and not isinstance(chain, dict):
        raise ProtocolError("chain: expected an object")
    if fork is not None and not isinstance(fork, dict):
        raise ProtocolError("fork: expected an object")
    parent = None if fork is None else fork.get("from")
    return Batch(
        site=text_field(o.get("site"), "site"),
        epoch=text_field(o.get("epoch"), "epoch"),
        base=int_field(o.get("base"), "base"),
        rows=tuple(rows),
        sent_ts=number_field(o.get("sent_ts"), "sent_ts"),
        numbered_through=int_field(backlog.get("through"), "backlog.through"),
        backlog_oldest_queued_ts=None if oldest is None else number_field(oldest, "backlog.oldest_queued_ts"),
        chain=None
        if chain is None or not rows
        else Chain(
            _digest(chain.get("before"), "chain.before"), text_field(chain.get("after"), "chain.after")
        ),
        fork=None
        if fork is None
        else Fork(
            None if parent is None else text_field(parent, "fork.from"),
            text_field(fork.get("reason"), "fork.reason"),
        ),
    )


def encode_ack(ack: Ack) -> bytes:
    out: dict[str, Any] = {"v": PROTOCOL_VERSION, "epoch": ack.epoch, "through": ack.through}
    if ack.refused_first is not None:
        out["refused_first"] = ack.refused_first
    if ack.digest is not None:
        out["digest"] = ack.digest
    return json.dumps(out, separators=(",", ":")).encode()


def decode_ack(payload: bytes) -> Ack:
    o = message_object(payload)
    refused = o.get("refused_first")
    digest = o.get("digest")
    return Ack(
        text_field(o.get("epoch"), "epoch"),
        int_field(o.get("through"), "through"),
        None if refused is None else int_field(refused, "refused_first"),
        None if digest is None else _digest(digest, "digest"),
    )
