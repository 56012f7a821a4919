"""Webhook secrets: each receiver's signing key and HTTP Basic credentials, in a file of their own.

The main configuration names ``secrets_file``; that file, TOML, holds one table per webhook URL, written
exactly as in the configuration's ``[[webhooks]] url``::

    [webhooks."https://alarms.example/vialguard"]
    signing_secret = "whsec_..."     # Standard Webhooks: "whsec_" and the base64 of 24 to 64 random bytes
    username = "vialguard"           # sent as HTTP Basic auth (RFC 7617), never in the URL
    password = "..."

Why a separate file and not encrypted values: to decrypt, vialguard would need a key on the same card,
readable by the same service, so encryption would move the secret rather than protect it. A file readable
by the service's user alone keeps the secrets out of what is shared: the main configuration (copied into
bug reports, digested into the audit trail) and the database (copied by every backup). The file is refused
when its group or others may read it (as ssh refuses a private key), and its contents never reach a log or an
error message. Under systemd, ``LoadCredential=`` can hand the same file to the service alone.
"""

from __future__ import annotations

import base64
import binascii
import stat
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.errors import ConfigError

SECRET_PREFIX = "whsec_"
# The Standard Webhooks spec asks for keys of 24 to 64 bytes (spec v1, "Symmetric signatures").
KEY_BYTES_MIN = 24
KEY_BYTES_MAX = 64
_NOT_PRINTABLE = {chr(c) for c in range(0x20)} | {"\x7f"}


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    signing_secret: str | None = Field(default=None, repr=False)
    # RFC 7617: the user-id of Basic auth cannot contain a colon; neither may carry control characters.
    username: Annotated[str, Field(min_length=1)] | None = None
    password: Annotated[str, Field(min_length=1)] | None = Field(default=None, repr=False)

    @field_validator("signing_secret")
    @classmethod
    def _standard_secret(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(SECRET_PREFIX):
            raise ValueError(f'must start with "{SECRET_PREFIX}" followed by base64 (Standard Webhooks)')
        try:
            key = base64.b64decode(value.removeprefix(SECRET_PREFIX), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f'is not "{SECRET_PREFIX}" followed by valid base64') from exc
        if not KEY_BYTES_MIN <= len(key) <= KEY_BYTES_MAX:
            raise ValueError(
                f"decodes to {len(key)} bytes; Standard Webhooks keys are {KEY_BYTES_MIN} to {KEY_BYTES_MAX}"
            )
        return value

    @field_validator("username", "password")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and _NOT_PRINTABLE & set(value):
            raise ValueError("contains a control character")
        return value

    @model_validator(mode="after")
    def _pair(self) -> Self:
        if self.username is not None and ":" in self.username:
            raise ValueError("username: cannot contain ':' (HTTP Basic auth, RFC 7617)")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: give both or neither")
        if self.signing_secret is None and self.username is None:
            raise ValueError("empty: give signing_secret, or username and password, or both")
        return self


@dataclass(frozen=True)
class WebhookSecrets:
    """One receiver's secrets; ``repr`` shows neither."""

    signing_secret: str | None = field(default=None, repr=False)
    # The whole Authorization header value: "Basic <base64 of user:password>".
    basic_auth: str | None = field(default=None, repr=False)


NONE = WebhookSecrets()


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _where(loc: tuple[int | str, ...]) -> str:
    parts = [f'"{p}"' if i == 1 else str(p) for i, p in enumerate(loc)]
    return ".".join(parts)


def parse_webhook_secrets(
    raw: dict[str, Any], origin: str, urls: Collection[str]
) -> dict[str, WebhookSecrets]:
    """Validate the secrets file's tables against the configured webhook URLs; keyed by URL."""
    unknown = sorted(set(raw) - {"webhooks"})
    if unknown:
        raise ConfigError(f'{origin}: {unknown[0]}: unknown table; the file holds only [webhooks."URL"]')
    tables = raw.get("webhooks", {})
    if not isinstance(tables, dict):
        raise ConfigError(f'{origin}: webhooks: expected tables [webhooks."URL"]')
    out: dict[str, WebhookSecrets] = {}
    for url, table in tables.items():
        if url not in urls:
            raise ConfigError(
                f'{origin}: webhooks."{url}": no [[webhooks]] with this url in the configuration'
                " (write the url exactly as there)"
            )
        try:
            entry = _Entry.model_validate(table)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = _where(("webhooks", url, *error["loc"]))
            message = str(error["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"{origin}: {where}: {message}") from exc
        basic = None
        if entry.username is not None and entry.password is not None:
            basic = _basic(entry.username, entry.password)
        out[url] = WebhookSecrets(signing_secret=entry.signing_secret, basic_auth=basic)
    return out


def load_webhook_secrets(path: Path, urls: Collection[str]) -> dict[str, WebhookSecrets]:
    """Read the secrets file, refusing one that anyone but its owner may read."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"{path}: mode {stat.filemode(mode)}: others than its owner may read these secrets;"
                f" run: chmod 600 {path} (owned by the user the service runs as)"
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the secrets file: {exc.strerror}") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_webhook_secrets(raw, str(path), urls)
