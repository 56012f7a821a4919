"""Turning command-line options into one Settings object and one clock, the same in every process."""

from __future__ import annotations

import argparse
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from hardware.clock import Clock, SystemClock, WarpClock
from monitor.config import ScenarioConfig, Settings, load_settings, parse_settings
from monitor.errors import ConfigError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


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


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML settings file (default: the shipped simulated site)")
    p.add_argument("--db", type=Path, help="SQLite database path (default: ./var/vialguard.db)")
    p.add_argument(
        "--simulate", action="store_true", help="read the simulated fridge instead of real sensors"
    )
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second (default 1)")
    p.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="KIND@START[+DURATION][:SENSOR]",
        help="force a simulated event: door-left-open, light-stuck-on, sensor-dropout, "
        "temperature-excursion (repeatable)",
    )
    p.add_argument("--host", help="API bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="API port (default 8000)")
    # Set by `vialguard run` so its children share one simulated timeline.
    p.add_argument("--sim-origin", type=float, help=argparse.SUPPRESS)
    p.add_argument("--real-origin", type=float, help=argparse.SUPPRESS)


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.db is not None:
        overrides["db_path"] = args.db
    if args.config is None:
        if not args.simulate:
            raise ConfigError("no --config given: pass a settings file, or --simulate for the simulated site")
        origin = "simulated.toml (shipped)"
        text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
        raw: dict[str, Any] = tomllib.loads(text)
        settings = parse_settings(raw, origin, overrides)
    else:
        settings = load_settings(args.config, overrides)
    api = settings.api.model_copy(
        update={k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    )
    scenarios = [*settings.simulation.scenarios]
    if args.scenario:
        for text in args.scenario:
            try:
                scenarios.append(ScenarioConfig.model_validate(parse_scenario(text)))
            except ValueError as exc:
                raise ConfigError(f"--scenario {text!r}: {exc}") from exc
    simulation = settings.simulation.model_copy(update={"scenarios": scenarios})
    return settings.model_copy(update={"api": api, "simulation": simulation})


def clock_from(args: argparse.Namespace) -> Clock:
    """The system clock for real sensors; a warp clock on a shared origin for the simulation."""
    if not args.simulate:
        if args.speed != 1.0:
            raise ConfigError("--speed applies to the simulation only; add --simulate")
        return SystemClock()
    if args.speed <= 0:
        raise ConfigError(f"--speed must be positive, got {args.speed}")
    if args.sim_origin is not None:  # a child of `vialguard run`, given the system's timeline
        return WarpClock(args.speed, args.sim_origin, args.real_origin)
    from vialguard.clocks import joined_or_resumed  # imports the store: only when simulating

    return joined_or_resumed(settings_from(args).db_path, args.speed)
