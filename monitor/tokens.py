"""API tokens: their scopes, their text and how a presented token is checked against a stored digest.

A token reads ``vg_<token_id>_<secret>``. ``token_id`` (12 hex digits) is public: it names the stored row,
found by index, so the secret itself never drives a lookup whose timing could leak it. Only the SHA-256 of
the whole token is stored; it is compared with :func:`hmac.compare_digest`. The secret has 256 random bits,
so a digest cannot be searched backwards and a deliberately slow hash would only slow every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Literal, get_args

Scope = Literal["read", "write", "admin"]
# The longest expiry a token may be given: ten years (a token without one lasts until revoked).
MAX_TOKEN_SECONDS = 10 * 365 * 86_400.0
SCOPES: tuple[Scope, ...] = get_args(Scope)

# Each scope includes those before it: a write token reads, an admin token writes.
_RANK: dict[Scope, int] = {scope: rank for rank, scope in enumerate(SCOPES)}

# A token's name is shaped like a vial's key: it appears in the audit trail (``token:NAME``), in logs and
# in a URL path (revoke), so no control or bidirectional character, no space, no slash.
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
NAME_RULE = "1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit (like a vial key)"
_NAME = re.compile(NAME_PATTERN)

_FORMAT = re.compile(r"^vg_(?P<token_id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class IssuedToken:
    token_id: str
    text: str  # shown once, never stored
    sha256: str


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a new token, or None when it can."""
    return None if _NAME.fullmatch(name) else f"{name!r} is not a token name: {NAME_RULE}"


def covers(held: Scope, needed: Scope) -> bool:
    """Whether a token of scope ``held`` may do what needs ``needed``."""
    return _RANK[held] >= _RANK[needed]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def issue() -> IssuedToken:
    """A new random token and the digest to store for it."""
    token_id = secrets.token_hex(6)
    text = f"vg_{token_id}_{secrets.token_urlsafe(32)}"
    return IssuedToken(token_id=token_id, text=text, sha256=digest(text))


def token_id_of(text: str) -> str | None:
    """The public id of a well-formed token, or None for anything else."""
    match = _FORMAT.match(text)
    return None if match is None else match["token_id"]


def matches(text: str, stored_sha256: str) -> bool:
    """Whether ``text`` is the token whose digest was stored, in time independent of where they differ."""
    return hmac.compare_digest(digest(text), stored_sha256)


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None when there is no such header."""
    if not header:
        return None
    kind, _, value = header.strip().partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        return ""  # a header that is there but not a bearer token: refused as malformed, not as missing
    return value.strip()


class ExpiryClock:
    """Real time as token expiry reads it: never earlier than a time already seen.

    Expiry runs on the real wall clock, which NTP or an operator may step back; read as it is, a token that
    had expired would work again until the clock caught up. This clock keeps the latest wall time seen and
    the monotonic time it was seen at: while the wall clock reads earlier than that time carried forward
    on the monotonic clock (which never steps), the carried time is "now". A floor from the database (the
    high-water mark other processes raised) carries the mark across restarts. Time is passed in.
    """

    def __init__(self, floor_ts: float = float("-inf")) -> None:
        self._seen_ts = floor_ts
        self._seen_monotonic: float | None = None
        self._lock = threading.Lock()

    def now(self, wall: float, monotonic: float) -> float:
        with self._lock:
            carried = self._seen_ts
            if self._seen_monotonic is not None:
                carried += max(monotonic - self._seen_monotonic, 0.0)
            if wall >= carried:
                self._seen_ts, self._seen_monotonic = wall, monotonic
                return wall
            if self._seen_monotonic is None:  # a floor never yet carried: carry it from here
                self._seen_ts, self._seen_monotonic = carried, monotonic
            return carried

    def raise_floor(self, floor_ts: float, monotonic: float) -> None:
        """No earlier than ``floor_ts`` (a high-water mark read back) from ``monotonic`` on."""
        with self._lock:
            carried = self._seen_ts
            if self._seen_monotonic is not None:
                carried += max(monotonic - self._seen_monotonic, 0.0)
            if floor_ts > carried:
                self._seen_ts, self._seen_monotonic = floor_ts, monotonic
