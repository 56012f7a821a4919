"""The processes' own settings: the bridge (batches, spool, serial sources), the API and the webhooks."""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from typing import Annotated, Any, Self

from pydantic import Field, model_validator

from monitor.config.fields import DeviceName, Interval, StrictModel

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


class SerialSourceConfig(StrictModel):
    """A microcontroller streaming readings over serial (docs/serial-protocol.md); its sensors are the
    site's sensors with ``driver = "serial"``, matched by key."""

    url: str = Field(min_length=1)  # a pyserial URL: /dev/ttyACM0, /dev/serial/by-id/..., socket://...
    baudrate: Annotated[int, Field(gt=0)] = 115200
    device_id: DeviceName | None = None  # accept only this device; default: any
    reconnect_seconds: Interval = 1.0


class BridgeConfig(StrictModel):
    batch_seconds: Interval = 2.0  # readings are spooled at least this often: the most a crash can lose
    # Readings are committed to the database this often (the API lags behind by as much). Between commits
    # they wait in the spool beside the database: fewer, larger commits write far less to an SD card.
    # Set it to batch_seconds to commit every batch and use no spool.
    commit_seconds: Interval = 30.0
    # While the kernel says the clock is not synchronised, readings wait (spooled) this long for it, to be
    # re-stamped by the step that fixes the time; after that they are committed as stamped. 0: never wait
    # (a machine whose clock is right but that the kernel does not report synchronised).
    unsynchronised_hold_seconds: Annotated[float, Field(ge=0)] = 300.0
    # A disk-nearly-full alert below this much room for the database: at about 40 MB a day, days of warning.
    min_free_megabytes: Annotated[float, Field(ge=0)] = 100.0
    # Raw readings are kept this long, then become one-minute aggregates with the exact ledger.
    raw_retention_days: Annotated[float, Field(gt=0)] = 90.0
    heartbeat_seconds: Interval = 5.0
    serial: list[SerialSourceConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source_per_port(self) -> Self:
        urls = [s.url for s in self.serial]
        for i, url in enumerate(urls):
            if url in urls[:i]:
                raise ValueError(f"serial[{i}].url: {url!r} is already a serial source: one per port")
        return self


def loopback_only(host: str) -> bool:
    """Whether a server bound to ``host`` accepts connections from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


class ApiConfig(StrictModel):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000

    @model_validator(mode="after")
    def _host_is_an_address_or_a_name(self) -> Self:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            if not _HOSTNAME.match(self.host):
                raise ValueError(f"host: {self.host!r} is neither an IP address nor a host name") from None
        return self

    # Reads without a token, only while the server binds to loopback alone; writes always need one.
    anonymous_loopback_reads: bool = True
    max_request_bytes: Annotated[int, Field(ge=1024)] = 65_536
    # Names besides IP addresses and loopback names that requests may carry in Host (api/edge.py), e.g.
    # pharmacy-pi.local: any other name is refused, so a web page cannot reach the API by DNS rebinding.
    allowed_hosts: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$")]] = Field(
        default_factory=list
    )
    # A TLS-terminating proxy serves this API to the network: no warning for binding beyond loopback.
    behind_tls_proxy: bool = False


class WebhookConfig(StrictModel):
    """An endpoint that receives every alert change as a JSON POST (see vialguard/webhooks.py).

    Its signing secret and Basic-auth credentials live in the ``secrets_file`` (monitor/webhook_secrets.py),
    never here: this file is shared and audited, and the URL is stored in the database."""

    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$")]
    timeout_seconds: Interval = 10.0
    # At most this many changes wait for the receiver (about 0.6 kB each in the outbox); older ones beyond it
    # are skipped, and a system event says which: a receiver gone for good cannot fill the Pi's card. The
    # alerts API still has the alerts they changed (for the 90-day retention).
    max_backlog_changes: Annotated[int, Field(ge=1)] = 10_000

    @model_validator(mode="before")
    @classmethod
    def _no_secrets_here(cls, data: Any) -> Any:
        if isinstance(data, dict) and "secret" in data:
            raise ValueError(
                'secret: signing secrets go in the secrets_file, as signing_secret = "whsec_..."'
                " (Standard Webhooks), not in the configuration"
            )
        return data

    @model_validator(mode="after")
    def _no_credentials_in_url(self) -> Self:
        if "@" in urllib.parse.urlsplit(self.url).netloc:
            raise ValueError(
                "url: user and password go in the secrets_file (username, password; sent as HTTP Basic"
                " auth), not in the url"
            )
        return self
