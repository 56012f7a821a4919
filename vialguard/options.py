"""Turning command-line options into one Settings object and one clock, the same in every process."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hardware.clock import Clock, SystemClock, WarpClock
from monitor.config import ApiConfig, ScenarioConfig, Settings, describe, load_settings, parse_settings
from monitor.errors import ConfigError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

# Defaults for --config and --db, so a Pi's shell or unit need not repeat them.
CONFIG_ENV = "VIALGUARD_CONFIG"
DB_ENV = "VIALGUARD_DB"


def parse_duration(text: str) -> float:
    m = _DURATION.match(text.strip())
    if m is None:
        raise ConfigError(f"{text!r} is not a duration (examples: 90, 90s, 10m, 2h, 1d)")
    return float(m.group(1)) * _UNIT_SECONDS[m.group(2)]


def parse_scenario(text: str) -> dict[str, Any]:
    """Parse ``KIND@START[+DURATION][:SENSOR]``, e.g. ``door-left-open@10m+2h``."""
    spec, _, sensor = text.partition(":")
    kind, at, when = spec.partition("@")
    if not at:
        raise ConfigError(f"--scenario {text!r}: expected KIND@START[+DURATION][:SENSOR]")
    start, plus, duration = when.partition("+")
    out: dict[str, Any] = {
        "kind": kind,
        "start_after_seconds": parse_duration(start),
        "duration_seconds": parse_duration(duration) if plus else 3600.0,
    }
    if sensor:
        out["sensor"] = sensor
    return out


def env_path(name: str) -> Path | None:
    """An environment variable naming a file, as a default for an option; unset or empty is no default."""
    value = os.environ.get(name, "")
    return Path(value) if value else None


def _config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        type=Path,
        default=env_path(CONFIG_ENV),
        metavar="FILE",
        help=f"TOML settings file (default: ${CONFIG_ENV}; with --simulate and neither, the shipped"
        " simulated site)",
    )


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        type=Path,
        default=env_path(DB_ENV),
        metavar="PATH",
        help=f"SQLite database (default: ${DB_ENV}, else the settings' db_path, ./var/vialguard.db)",
    )


def _simulate(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--simulate",
        action="store_true",
        help="the simulated fridge instead of real sensors (and the shipped simulated site without --config)",
    )


def _speed(p: argparse.ArgumentParser) -> None:
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second (default 1)")
    # Set by `vialguard run` so its children share one simulated timeline.
    p.add_argument("--sim-origin", type=float, help=argparse.SUPPRESS)
    p.add_argument("--real-origin", type=float, help=argparse.SUPPRESS)


def _scenario(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="KIND@START[+DURATION][:SENSOR]",
        help="force a simulated event: door-left-open, light-stuck-on, sensor-dropout, "
        "temperature-excursion (repeatable)",
    )


def _listen(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="API bind address (default: the settings' [api] host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="API port (default: the settings' [api] port, 8000)")


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the result as JSON")


# Every shared option, defined once; a command names the ones it uses (`vialguard vials list` has no --port).
OPTIONS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "config": _config,
    "db": _db,
    "simulate": _simulate,
    "speed": _speed,
    "scenario": _scenario,
    "listen": _listen,
    "json": _json,
}
SITE = ("config", "db", "simulate")  # which settings and database: the commands that read or write data


def print_json(value: Any) -> None:
    """A command's result for a program to read: the output of ``--json``."""
    print(json.dumps(value, indent=2, ensure_ascii=False))  # noqa: T201  # command output


def add_options(p: argparse.ArgumentParser, *names: str) -> None:
    for name in names:
        OPTIONS[name](p)


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings a command's options select; an option the command does not offer counts as not given."""
    given = vars(args)
    overrides: dict[str, Any] = {}
    if given.get("db") is not None:
        overrides["db_path"] = given["db"]
    config: Path | None = given.get("config")
    if config is None:
        if not given.get("simulate"):
            raise ConfigError(
                f"no --config given: pass a settings file (or set ${CONFIG_ENV}),"
                " or --simulate for the simulated site"
            )
        origin = "simulated.toml (shipped)"
        text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
        raw: dict[str, Any] = tomllib.loads(text)
        settings = parse_settings(raw, origin, overrides)
    else:
        settings = load_settings(config, overrides)
    listen = {k: v for k, v in (("host", given.get("host")), ("port", given.get("port"))) if v is not None}
    try:  # validated as the file's values are (model_copy would take them unchecked)
        api = ApiConfig.model_validate({**settings.api.model_dump(), **listen})
    except ValidationError as exc:
        raise ConfigError(f"--host/--port: {describe(exc)}") from exc
    scenarios = [*settings.simulation.scenarios]
    for text in given.get("scenario") or ():
        try:
            scenarios.append(ScenarioConfig.model_validate(parse_scenario(text)))
        except ValidationError as exc:
            raise ConfigError(f"--scenario {text!r}: {describe(exc)}") from exc
        except ValueError as exc:
            raise ConfigError(f"--scenario {text!r}: {exc}") from exc
    simulation = settings.simulation.model_copy(update={"scenarios": scenarios})
    return settings.model_copy(update={"api": api, "simulation": simulation})


def clock_from(args: argparse.Namespace) -> Clock:
    """The system clock for real sensors; a warp clock on a shared origin for the simulation."""
    given = vars(args)
    speed: float = given.get("speed", 1.0)
    if not given.get("simulate"):
        if speed != 1.0:
            raise ConfigError("--speed applies to the simulation only; add --simulate")
        return SystemClock()
    if not math.isfinite(speed) or speed <= 0:
        raise ConfigError(f"--speed must be a positive number of simulated seconds per second, got {speed}")
    sim_origin = given.get("sim_origin")
    if sim_origin is not None:  # a child of `vialguard run`, given the system's timeline
        return WarpClock(speed, sim_origin, given.get("real_origin"))
    from vialguard.clocks import joined_or_resumed  # imports the store: only when simulating

    return joined_or_resumed(settings_from(args).db_path, speed)
