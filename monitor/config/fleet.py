"""The ``[fleet]`` table of a site's settings: where the uplink sends this site's rows (fleet/uplink).

Parsed with the rest of the settings so that ``vialguard run`` refuses a bad table before anything starts;
the uplink itself lives in the ``fleet`` package, which ``monitor`` never imports.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# A site's name goes into MQTT topic names: no wildcard, no separator.
SiteName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
MQTT_SCHEMES = {"mqtt": 1883, "mqtts": 8883}


class FleetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    site: SiteName
    mqtt: Annotated[str, Field(pattern=r"^mqtts?://[^\s/@]+(:\d+)?/?$")]  # mqtt://host:1883, mqtts://...
    username: str | None = None
    # The broker password, alone in a file readable by the service's user; never in this shared file.
    password_file: Path | None = None
    # TLS (mqtts://): the broker's CA, and this site's own certificate and key if the broker asks for one.
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    batch_rows: Annotated[int, Field(ge=1, le=10_000)] = 500
    # Unacknowledged rows in flight at once, in batches.
    window_batches: Annotated[int, Field(ge=1, le=100)] = 4
    # No acknowledgement this long while rows are in flight: send again from the acknowledged point.
    resend_seconds: Annotated[float, Field(gt=0)] = 30.0
    # Nothing to send this long: a batch without rows, so central sees the site (and its backlog) alive.
    heartbeat_seconds: Annotated[float, Field(gt=0)] = 60.0
    # A row waiting this long for central's acknowledgement raises a system alert at the site.
    backlog_alert_seconds: Annotated[float, Field(gt=0)] = 3600.0
    # Home Assistant's MQTT discovery on the same broker (fleet/uplink/home_assistant.py): off unless asked.
    home_assistant: bool = False
    home_assistant_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")] = "homeassistant"
    # How often the entities' values are published; they expire after three periods without one.
    home_assistant_seconds: Annotated[float, Field(gt=0)] = 60.0

    @property
    def broker(self) -> tuple[str, int, bool]:
        """``(host, port, tls)`` from the ``mqtt`` URL."""
        url = urllib.parse.urlsplit(self.mqtt)
        return url.hostname or "", url.port or MQTT_SCHEMES[url.scheme], url.scheme == "mqtts"

    @model_validator(mode="after")
    def _tls_files_need_tls(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError(
                "cert_file and key_file: give both (a client certificate and its key) or neither"
            )
        if not self.mqtt.startswith("mqtts://") and any((self.ca_file, self.cert_file)):
            raise ValueError("ca_file, cert_file: TLS files need an mqtts:// URL")
        return self
