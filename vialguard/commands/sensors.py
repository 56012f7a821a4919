"""``vialguard sensors scan`` and ``sensors read``: what is on the buses, and one reading of each."""

from __future__ import annotations

import argparse
import json
from typing import Any

from firmware_bridge.acquisition import SampleTime
from firmware_bridge.sensors import build_fridge, build_real_sensors, build_simulated_sensors
from hardware.bus import open_i2c_bus
from hardware.errors import HardwareError
from hardware.registry import DRIVERS
from hardware.sensor import LightSensor, SpectralSample
from hardware.w1 import SysfsW1
from monitor.model.spectral import SpectralCounts, kappa_of
from vialguard.options import add_common, clock_from, settings_from


def _names_at(address: int) -> str:
    names = [d.name for d in DRIVERS.values() if d.bus_kind == "i2c" and d.default_place == address]
    return ", ".join(names) if names else "unknown device"


def cmd_scan(args: argparse.Namespace) -> int:
    if args.simulate:
        settings = settings_from(args)
        clock = clock_from(args)
        _, buses = build_simulated_sensors(
            settings, build_fridge(settings.simulation, clock.wall()), SampleTime()
        )
        found = {n: bus.scan() for n, bus in buses.i2c.items()}
        probes = buses.w1.devices()
    else:
        found = {args.bus: list(open_i2c_bus(args.bus).scan())}  # type: ignore[attr-defined]
        probes = SysfsW1().devices()
    for n, addresses in found.items():
        print(f"I2C bus {n}: {len(addresses)} device(s)")  # noqa: T201  # command output
        for a in addresses:
            print(f"  0x{a:02x}  {_names_at(a)}")  # noqa: T201
    print(f"1-Wire: {len(probes)} probe(s)")  # noqa: T201
    for p in probes:
        print(f"  {p}  ds18b20")  # noqa: T201
    return 0


def _spectrum_row(spectrum: SpectralSample) -> dict[str, Any]:
    """A spectral or UV chip's channels, and the κ_s the model derives from them (``None`` if none)."""
    counts = SpectralCounts(
        spectrum.chip,
        spectrum.channels,
        spectrum.counts,
        spectrum.gain,
        spectrum.integration_ms,
        spectrum.saturated,
        spectrum.near_uv_w_per_m2,
    )
    return {
        "chip": spectrum.chip,
        "counts": dict(zip(spectrum.channels, spectrum.counts, strict=True)),
        "gain": spectrum.gain,
        "integration_ms": spectrum.integration_ms,
        "saturated": spectrum.saturated,
        "near_uv_w_per_m2": spectrum.near_uv_w_per_m2,
        "kappa": kappa_of(counts),
    }


def _spectrum_text(spectrum: dict[str, Any] | None) -> str:
    if spectrum is None:
        return ""
    parts = [" ".join(f"{k}={v}" for k, v in spectrum["counts"].items())]
    if spectrum["near_uv_w_per_m2"] is not None:
        parts.append(f"near-UV {spectrum['near_uv_w_per_m2']:.3g} W/m² (estimate)")
    if spectrum["kappa"] is not None:
        parts.append(f"κ_s {spectrum['kappa']:.2f}")
    if spectrum["saturated"]:
        parts.append("channels saturated")
    return "\n" + " " * 36 + "  ".join(parts)


def cmd_read(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    clock = clock_from(args)
    # One instant for both: a scenario starting "now" (``door-left-open@0``) is in force for the read.
    now = clock.wall()
    sample_time = SampleTime(now)
    if args.simulate:
        scheduled, _ = build_simulated_sensors(settings, build_fridge(settings.simulation, now), sample_time)
    else:
        scheduled = build_real_sensors(settings)
    rows: list[dict[str, Any]] = []
    for s in scheduled:
        row: dict[str, Any] = {"sensor": s.key, "driver": s.sensor.model}
        try:
            if isinstance(s.sensor, LightSensor):
                light = s.sensor.read_light()
                row |= {
                    "lux": light.lux,
                    "saturated": light.saturated,
                    "raw_counts": list(light.raw_counts),
                    "gain": light.gain,
                    "integration_ms": light.integration_ms,
                    "status": "ok",
                }
                if light.spectrum is not None:
                    row["spectrum"] = _spectrum_row(light.spectrum)
            else:
                temp = s.sensor.read_temperature()
                row |= {
                    "celsius": temp.celsius,
                    "relative_humidity_percent": temp.relative_humidity_percent,
                    "status": "ok",
                }
        except HardwareError as exc:
            row |= {"status": "faulty", "error": str(exc)}
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))  # noqa: T201  # command output
    else:
        for row in rows:
            if row["status"] != "ok":
                value = f"FAULT: {row['error']}"
            elif "lux" in row:
                bound = " (saturated: lower bound)" if row["saturated"] else ""
                value = (
                    f"{row['lux']:.4g} lx{bound}  raw {row['raw_counts']} gain {row['gain']:g}"
                    f" {row['integration_ms']:g} ms"
                )
                value += _spectrum_text(row.get("spectrum"))
            else:
                value = f"{row['celsius']:.2f} °C"
            print(f"{row['sensor']:<24} {row['driver']:<10} {value}")  # noqa: T201
    return 0 if all(r["status"] == "ok" for r in rows) else 1


def add_parsers(sub: Any) -> None:
    sensors = sub.add_parser("sensors", help="inspect the sensors: scan the buses, read each sensor once")
    inner = sensors.add_subparsers(dest="sensors_command", required=True)
    scan = inner.add_parser("scan", help="list I2C addresses and 1-Wire probes found, and what they are")
    add_common(scan)
    scan.add_argument("--bus", type=int, default=1, help="I2C bus number (default 1: /dev/i2c-1)")
    scan.set_defaults(func=cmd_scan)
    read = inner.add_parser("read", help="read each configured sensor once: value, raw counts, status")
    add_common(read)
    read.add_argument("--json", action="store_true", help="print JSON")
    read.set_defaults(func=cmd_read)
