"""vialguard's settings: one pydantic model, loaded from TOML, validated at start.

A bad file fails at once with a message naming the file, the key and the reason, e.g.
``site.toml: sensors[1].interval_seconds: Input should be greater than or equal to 0.0125``.
Every number must be finite (a NaN threshold compares false with everything: it switches its alarm off), and
the rules between keys hold (a low limit below the high one, a warning above the critical one, intervals no
shorter than the floors below). What needs the hardware or serial libraries (known drivers,
lamps, serial URLs, the API's address) is checked by ``vialguard/preflight.py`` before any process starts.
The default simulated configuration ships in the ``vialguard`` package (``vialguard/data/simulated.toml``).
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
import urllib.parse
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.alerts.rules import RuleThresholds
from monitor.errors import ConfigError, InvalidRequest
from monitor.fleet_config import FleetConfig
from monitor.model.profiles import Catalog, load_catalog
from monitor.model.quantities import Quantity
from monitor.model.spectral import MEASURED_SPECTRUM_LAMP
from monitor.plausibility import QUANTITY_RANGES

# The shortest a sensor's interval may be: the fastest conversion of any chip vialguard reads, the LTR390's
# 12.5 ms at 13 bits (LTR-390UV-01 datasheet, MEAS_RATE); a sensor polled faster repeats its last value.
MIN_SENSOR_INTERVAL_SECONDS = 0.0125
# The shortest any other periodic setting may be (batch, commit, heartbeat, reconnect, checks): the tick the
# acquisition loop reads serial ports on (firmware_bridge/acquisition.py, SOURCE_POLL_SECONDS): a window
# shorter than the tick it is kept on cannot be kept.
MIN_INTERVAL_SECONDS = 0.02
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
Seconds = Annotated[float, Field(gt=0)]
Interval = Annotated[float, Field(ge=MIN_INTERVAL_SECONDS)]
SensorInterval = Annotated[float, Field(ge=MIN_SENSOR_INTERVAL_SECONDS)]
# How a serial device names itself in its frames (firmware_bridge/frames.py): anything else never matches.
DeviceName = Annotated[str, Field(pattern=r"^[a-z0-9._-]{1,64}$")]
# Hour offsets of the world's time zones: UTC-12 (Baker Island) to UTC+14 (Line Islands).
UtcOffsetHours = Annotated[float, Field(ge=-12.0, le=14.0)]
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


class _Strict(BaseModel):
    # allow_inf_nan: a NaN or an infinity is refused in every number of the file.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class LocationConfig(_Strict):
    key: Key
    name: str = Field(min_length=1)
    kind: Literal["fridge", "cabinet", "room", "other"] = "fridge"
    # The lamp lighting the vials here, for the spectrum factor κ_s (a key of the profiles' [lamps]);
    # left out: "unknown", whose wide κ range widens the potency bounds.
    lamp: str | None = None
    # What to assume for light the sensor did not see (gaps, saturated readings), for the potency's low
    # bound; left out: the highest lux recorded here.
    worst_case_lux: Annotated[float, Field(ge=0, le=QUANTITY_RANGES["light"].high)] | None = None


class CalibrationConfig(_Strict):
    """A linear correction after conversion (corrected = gain · raw + offset) and its certificate."""

    offset: float = 0.0
    gain: Annotated[float, Field(gt=0)] = 1.0
    certificate_id: str | None = None
    calibrated_on: date | None = None
    due_on: date | None = None  # overdue from the day after
    expanded_uncertainty: Annotated[float, Field(ge=0)] | None = None  # in the quantity's unit, k = 2
    # UV sensors (LTR390): W/m² of 300-400 nm per UV index, from a radiometer; unset: an assumed figure
    near_uv_w_per_m2_per_uvi: Annotated[float, Field(gt=0)] | None = None


class SensorConfig(_Strict):
    key: Key
    location: Key
    quantity: Quantity
    driver: str = "simulated"
    address: Annotated[int, Field(ge=0x03, le=0x77)] | None = None  # I2C 7-bit address
    bus: int = 1
    device_id: str | None = None  # 1-Wire id, e.g. "28-0316a2791aff"
    interval_seconds: SensorInterval | None = None  # default: 1 s for light, 10 s for temperature
    max_gap_seconds: SensorInterval | None = None  # default: 3 intervals, and at least 5 s
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig)

    @model_validator(mode="after")
    def _gap_holds_an_interval(self) -> Self:
        if self.max_gap < self.interval:
            raise ValueError(
                f"max_gap_seconds {self.max_gap:g} is shorter than the sensor's interval {self.interval:g}:"
                " every interval between its readings would be a gap in its ledger"
            )
        return self

    @property
    def interval(self) -> float:
        if self.interval_seconds is not None:
            return self.interval_seconds
        return 1.0 if self.quantity == "light" else 10.0

    @property
    def max_gap(self) -> float:
        if self.max_gap_seconds is not None:
            return self.max_gap_seconds
        return max(3.0 * self.interval, 5.0)


class VialConfig(_Strict):
    key: Key
    drug: str
    form: str
    lot: str = Field(min_length=1)
    location: Key
    packaging: str
    expiry: str | None = None
    initial_potency_percent: Annotated[float, Field(gt=0, le=150)] = 100.0


class RulesConfig(_Strict):
    potency_warning_percent: Annotated[float, Field(gt=0, le=100)] = 95.0
    potency_critical_percent: Annotated[float, Field(gt=0, le=100)] = 90.0
    light_lux: Annotated[float, Field(ge=0)] = 10.0
    light_hold_seconds: Annotated[float, Field(ge=0)] = 60.0
    temperature_low_celsius: float = 2.0
    temperature_high_celsius: float = 8.0
    temperature_hold_seconds: Annotated[float, Field(ge=0)] = 900.0
    stale_intervals: Annotated[float, Field(gt=0)] = 3.0
    temperature_high_hold_seconds: Annotated[float, Field(ge=0)] = 3600.0
    temperature_cumulative_seconds: Annotated[float, Field(gt=0)] = 7200.0
    temperature_cumulative_window_seconds: Annotated[float, Field(gt=0)] = 86_400.0
    clear_seconds: Annotated[float, Field(ge=0)] = 120.0
    escalate_after_seconds: Annotated[float, Field(gt=0)] = 1800.0

    @model_validator(mode="after")
    def _limits_in_order(self) -> Self:
        if not self.temperature_low_celsius < self.temperature_high_celsius:
            raise ValueError(
                f"temperature_low_celsius {self.temperature_low_celsius:g} must be below"
                f" temperature_high_celsius {self.temperature_high_celsius:g}"
            )
        if not self.potency_warning_percent > self.potency_critical_percent:
            raise ValueError(
                f"potency_warning_percent {self.potency_warning_percent:g} must be above"
                f" potency_critical_percent {self.potency_critical_percent:g}: the warning comes first"
            )
        if self.temperature_cumulative_seconds >= self.temperature_cumulative_window_seconds:
            raise ValueError(
                f"temperature_cumulative_seconds {self.temperature_cumulative_seconds:g} must be shorter than"
                f" temperature_cumulative_window_seconds {self.temperature_cumulative_window_seconds:g}:"
                " no window could hold that much time out of range, and the alert would never fire"
            )
        probe = QUANTITY_RANGES["temperature"]
        for name in ("temperature_low_celsius", "temperature_high_celsius"):
            value = getattr(self, name)
            if not probe.holds(value):
                raise ValueError(
                    f"{name} {value:g} is outside what any probe can report ({probe.low:g} to"
                    f" {probe.high:g} °C): the alert could never fire"
                )
        return self

    def thresholds(self) -> RuleThresholds:
        return RuleThresholds(**self.model_dump())


class ScenarioConfig(_Strict):
    kind: Literal["door-left-open", "light-stuck-on", "sensor-dropout", "temperature-excursion"]
    start_after_seconds: Annotated[float, Field(ge=0)]
    duration_seconds: Seconds
    # What a sensor could report: a simulated fridge beyond it makes only refused readings.
    lux: Annotated[float, Field(ge=0, le=QUANTITY_RANGES["light"].high)] = 600.0
    celsius: Annotated[
        float, Field(ge=QUANTITY_RANGES["temperature"].low, le=QUANTITY_RANGES["temperature"].high)
    ] = 12.0
    sensor: str | None = None


class SimulationConfig(_Strict):
    seed: int = 1
    openings_per_day: Annotated[float, Field(ge=0)] = 10.0
    opening_hours: tuple[Annotated[float, Field(ge=0, le=24)], Annotated[float, Field(ge=0, le=24)]] = (
        8.0,
        20.0,
    )
    utc_offset_hours: UtcOffsetHours = 0.0
    # The simulated fridge's lamp, whose spectrum spectral and UV chips see (e.g. "fluorescent-cool-white",
    # "daylight-window"); checked against the known spectra when the simulation is built.
    lamp: str = "led-4000k"
    scenarios: list[ScenarioConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _hours_in_order(self) -> Self:
        start, end = self.opening_hours
        if not start < end:
            raise ValueError(f"opening_hours: the opening hour {start:g} must be before the closing {end:g}")
        return self


class SerialSourceConfig(_Strict):
    """A microcontroller streaming readings over serial (docs/serial-protocol.md); its sensors are the
    site's sensors with ``driver = "serial"``, matched by key."""

    url: str = Field(min_length=1)  # a pyserial URL: /dev/ttyACM0, /dev/serial/by-id/..., socket://...
    baudrate: Annotated[int, Field(gt=0)] = 115200
    device_id: DeviceName | None = None  # accept only this device; default: any
    reconnect_seconds: Interval = 1.0


class BridgeConfig(_Strict):
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


class AlertsConfig(_Strict):
    retention_days: Annotated[float, Field(gt=0)] = 90.0  # resolved alerts are purged after this long
    # System alerts (api/system_watch.py): how often the API checks, and when the bridge counts as down.
    system_check_seconds: Interval = 15.0
    bridge_down_seconds: Interval = 60.0


class ApiConfig(_Strict):
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
    allowed_hosts: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$")]] = []
    # A TLS-terminating proxy serves this API to the network: no warning for binding beyond loopback.
    behind_tls_proxy: bool = False


class WebhookConfig(_Strict):
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


class Settings(_Strict):
    site_name: str = "vialguard"
    db_path: Path = Path("var/vialguard.db")
    drug_profiles_file: Path | None = None
    # Webhook signing secrets and credentials, readable by the service's user alone (webhook_secrets.py).
    secrets_file: Path | None = None
    locations: list[LocationConfig] = Field(min_length=1)
    sensors: list[SensorConfig] = Field(default_factory=list)
    vials: list[VialConfig] = Field(default_factory=list)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    bridge: BridgeConfig = Field(default_factory=BridgeConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    fleet: FleetConfig | None = None  # the uplink to central (monitor/fleet_config.py)

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        keyed: tuple[tuple[str, list[str]], ...] = (
            ("locations", [x.key for x in self.locations]),
            ("sensors", [x.key for x in self.sensors]),
            ("vials", [x.key for x in self.vials]),
        )
        for name, keys in keyed:
            seen: set[str] = set()
            for i, key in enumerate(keys):
                if key in seen:
                    raise ValueError(f"{name}[{i}].key: duplicate key {key!r}")
                seen.add(key)
        locations = {loc.key for loc in self.locations}
        placed = (
            ("sensors", [x.location for x in self.sensors]),
            ("vials", [x.location for x in self.vials]),
        )
        for name, where in placed:
            for i, location in enumerate(where):
                if location not in locations:
                    raise ValueError(
                        f"{name}[{i}].location: unknown location {location!r}; "
                        f"known: {', '.join(sorted(locations))}"
                    )
        if self.alerts.bridge_down_seconds <= self.bridge.commit_seconds:
            raise ValueError(
                f"alerts.bridge_down_seconds {self.alerts.bridge_down_seconds:g} must exceed"
                f" bridge.commit_seconds {self.bridge.commit_seconds:g}: the bridge writes only that often,"
                " so a healthy bridge would be reported down"
            )
        return self

    def check_catalog(self, catalog: Catalog) -> None:
        """Every vial names a drug, form and packaging state the catalog knows; every lamp is known."""
        for i, loc in enumerate(self.locations):
            if loc.lamp == MEASURED_SPECTRUM_LAMP:
                raise ConfigError(
                    f"locations[{i}].lamp: {loc.lamp!r} is set by a spectral sensor (as7341) at the "
                    "location, not configured; name the lamp type, or leave it out"
                )
            if loc.lamp is not None:
                try:
                    catalog.lamp(loc.lamp)
                except InvalidRequest as exc:
                    raise ConfigError(f"locations[{i}].lamp: {exc}") from exc
        for i, vial in enumerate(self.vials):
            try:
                catalog.form(vial.drug, vial.form)
                catalog.tau(vial.packaging)
            except InvalidRequest as exc:
                raise ConfigError(f"vials[{i}]: {exc}") from exc


def _location_of(errors: list[Any]) -> str:
    first = errors[0]
    parts: list[str] = []
    for p in first["loc"]:
        if isinstance(p, int):
            parts[-1] = f"{parts[-1]}[{p}]" if parts else f"[{p}]"
        else:
            parts.append(str(p))
    return ".".join(parts)


def describe(exc: ValidationError) -> str:
    """The first problem pydantic found, as ``key: reason`` (no dump, no web address)."""
    errors = exc.errors()
    where = _location_of(errors)
    message = str(errors[0]["msg"]).removeprefix("Value error, ")
    return f"{where + ': ' if where else ''}{message}"


def parse_settings(raw: dict[str, Any], origin: str, overrides: dict[str, Any] | None = None) -> Settings:
    data = {**raw, **(overrides or {})}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {describe(exc)}") from exc
    base = Path(origin).parent if Path(origin).exists() else Path.cwd()
    for name in ("drug_profiles_file", "secrets_file"):  # relative to the configuration file
        path: Path | None = getattr(settings, name)
        if path is not None and not path.is_absolute():
            settings = settings.model_copy(update={name: base / path})
    try:
        settings.check_catalog(load_catalog(settings.drug_profiles_file))
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from exc
    return settings


def load_settings(path: Path, overrides: dict[str, Any] | None = None) -> Settings:
    """Read and validate a TOML settings file; ``overrides`` (from the command line) win over the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_settings(raw, str(path), overrides)
