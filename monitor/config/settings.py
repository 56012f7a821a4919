"""The settings object, its rules between sections, and loading it from a TOML file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Self

from pydantic import Field, ValidationError, model_validator

from monitor.config.alerting import AlertsConfig, RulesConfig
from monitor.config.fields import StrictModel
from monitor.config.fleet import FleetConfig
from monitor.config.services import ApiConfig, BridgeConfig, WebhookConfig
from monitor.config.simulation import SimulationConfig
from monitor.config.site import LocationConfig, SensorConfig, VialConfig
from monitor.errors import ConfigError, InvalidRequest
from monitor.model.profiles import Catalog, load_catalog
from monitor.model.spectral import MEASURED_SPECTRUM_LAMP


class Settings(StrictModel):
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
    fleet: FleetConfig | None = None  # the uplink to central (monitor/config/fleet.py)

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
