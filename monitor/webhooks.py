"""Webhook messages, pure: the body of one alert change, its idempotency key, signature and retry delay.

One POST carries one alert change: the change (``seq``, event kind, time, detail) and the alert as it stood
right after it, in the same shape as ``GET /api/v1/alerts``. A receiver may see a change more than once (a
delivery whose answer was lost is sent again); ``idempotency_key`` is the same every time, so it can drop
repeats. Changes reach each endpoint in ``seq`` order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

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


def signature(secret: str, payload: bytes) -> str:
    """``sha256=<hex HMAC>`` of the exact bytes sent, for a receiver that shares the secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def loggable(url: str) -> str:
    """The URL without user, password or query string, which may carry a receiver's secret."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
