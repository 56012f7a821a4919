"""Webhook messages, pure: the body of one alert change, its idempotency key, signature and retry delay.

One POST carries one alert change: the change (``seq``, event kind, time, detail) and the alert as it stood
right after it, in the same shape as ``GET /api/v1/alerts``. A receiver may see a change more than once (a
delivery whose answer was lost is sent again); ``idempotency_key`` is the same every time, so it can drop
repeats. Changes reach each endpoint in ``seq`` order.

Headers follow Standard Webhooks (https://www.standardwebhooks.com/, spec v1): ``webhook-id`` (the
idempotency key, the same on every attempt), ``webhook-timestamp`` (the attempt's Unix seconds) and, with a
signing secret, ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of ``id.timestamp.body`` under the
secret's bytes (``whsec_`` and base64). The id and the time are signed with the body, so a receiver that
refuses timestamps outside its tolerance (the spec's libraries: 5 minutes) refuses a captured delivery
replayed later, and one whose timestamp was rewritten. A retry is signed afresh at its own time.
"""

from __future__ import annotations

import json
import math
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

from monitor.timestamps import iso_utc

# Retries wait 2, 4, 8 ... seconds after each failure, at most 5 minutes: a receiver back after a
# restart hears at once; one down for hours is asked every 5 minutes, not hammered.
BACKOFF_FIRST_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0

_TIMES = ("started_ts", "fired_ts", "ended_ts", "ack_ts", "escalated_ts")
_TIME_NAMES = {"ack_ts": "acknowledged_at", "escalated_ts": "escalated_at"}


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    alert_id: int
    event_kind: str
    event_ts: float
    event_detail: str
    alert: str  # JSON of the alert row right after the change


def backoff_seconds(failures: int) -> float:
    """How long to wait after the ``failures``-th failure in a row (1 for the first)."""
    return min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2.0 ** max(0, min(failures - 1, 30)))


def _iso(ts: float | None) -> str | None:
    return None if ts is None else iso_utc(ts)


def idempotency_key(site_name: str, row: OutboxRow) -> str:
    # seq is unique in a database; the site name tells apart two sites posting to one receiver.
    return f"{site_name}:alert-change:{row.seq}"


def body(site_name: str, row: OutboxRow) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(row.alert)
    alert: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _TIMES:
            alert[_TIME_NAMES.get(key, key.removesuffix("_ts") + "_at")] = _iso(value)
        else:
            alert[key] = value
    alert["silenced"] = raw.get("silence_id") is not None
    alert["seq"] = row.seq
    return {
        "idempotency_key": idempotency_key(site_name, row),
        "site": site_name,
        "seq": row.seq,
        "event": {"kind": row.event_kind, "at": _iso(row.event_ts), "detail": row.event_detail},
        "alert": alert,
    }


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# Header values travel as Latin-1 at most: printable ASCII stays as it is (the key a receiver reads in the
# body, for an ASCII site name), anything else (and "%" itself) is percent-encoded, so a site named
# "Farmacia Łódź" can still post.
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def header_value(text: str) -> str:
    return urllib.parse.quote(text, safe=_HEADER_SAFE)


def standard_headers(msg_id: str, attempt_ts: float, payload: bytes, secret: str | None) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt: id, timestamp and, with a secret, the signature.

    ``secret`` is ``whsec_`` and the base64 of the key (what :mod:`monitor.webhook_secrets` accepts)."""
    seconds = math.floor(attempt_ts)
    headers = {"webhook-id": header_value(msg_id), "webhook-timestamp": str(seconds)}
    if secret is not None:
        when = datetime.fromtimestamp(seconds, tz=UTC)
        headers["webhook-signature"] = Webhook(secret).sign(headers["webhook-id"], when, payload.decode())
    return headers


def loggable(url: str) -> str:
    """The URL without user, password or query string, which may carry a receiver's secret."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
