"""`vialguard run` refuses every bad setting and option before it starts a child: one line naming the file
(or option), the key and the reason, exit status 2, no traceback, no restart loop, no database made."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import simulated_raw
from tests.system_process import free_port


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return {float("inf"): "inf", float("-inf"): "-inf"}.get(
            value, "nan" if value != value else repr(value)
        )
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)


def write_site(tmp_path: Path, change: dict[str, object]) -> Path:
    """The shipped simulated site with ``change`` applied (``"a.b"`` keys reach into tables; ``"a[0].b"``
    into the first of an array of tables), as a TOML file."""
    raw = simulated_raw()
    for dotted, value in change.items():
        node: object = raw
        parts = dotted.split(".")
        for part in parts[:-1]:
            name, _, index = part.partition("[")
            assert isinstance(node, dict)
            node = node.setdefault(name, {})
            if index:
                assert isinstance(node, list)
                node = node[int(index.rstrip("]"))]
        assert isinstance(node, dict)
        node[parts[-1]] = value
    lines: list[str] = []
    tables: list[str] = []
    for key, value in raw.items():
        if isinstance(value, dict):
            tables.append(f"[{key}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in value.items()))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                tables.append(f"[[{key}]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in item.items()))
        else:
            lines.append(f"{key} = {_toml(value)}\n")
    path = tmp_path / "site.toml"
    path.write_text("".join(lines) + "\n".join(tables), encoding="utf-8")
    return path


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`vialguard run` with ``args``; a run that does not end by itself within a minute is stopped (and the
    test fails on its exit status: a restart loop never ends)."""
    command = [sys.executable, "-m", "vialguard", "run", "--db", str(tmp_path / "v.db"), *args]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        return subprocess.CompletedProcess(command, -999, out, err)
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def assert_refused(result: subprocess.CompletedProcess[str], tmp_path: Path, *expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "vialguard is running" not in result.stdout  # no banner, no child
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0]
    assert "errors.pydantic.dev" not in lines[0]
    assert not (tmp_path / "v.db").exists()  # refused before anything was made


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"rules.temperature_high_celsius": float("nan")}, "rules.temperature_high_celsius"),
        ({"rules.light_lux": float("inf")}, "rules.light_lux"),
        ({"sensors[0].calibration": {"offset": float("nan")}}, "sensors[0].calibration.offset"),
        ({"locations[0].worst_case_lux": float("inf")}, "locations[0].worst_case_lux"),
        ({"rules.temperature_low_celsius": 9.0}, "temperature_low_celsius 9 must be below"),
        ({"rules.potency_warning_percent": 80.0}, "potency_warning_percent 80 must be above"),
        ({"sensors[0].interval_seconds": 1e-9}, "sensors[0].interval_seconds"),
        ({"bridge.batch_seconds": 1e-9}, "bridge.batch_seconds"),
        ({"sensors[0].driver": "tsl9999"}, "sensors[0].driver: unknown driver 'tsl9999'"),
        ({"sensors[1].driver": "tsl2591"}, "sensors[1].driver: 'tsl2591' measures light"),
        ({"simulation.lamp": "candle"}, "simulation.lamp: unknown lamp 'candle'"),
        ({"locations[0].lamp": "candle"}, "locations[0].lamp"),
        ({"vials[0].form": "tablet"}, "vials[0]"),
        ({"vials[0].packaging": "foil"}, "vials[0]: unknown packaging state 'foil'"),
        (
            {"bridge.serial": [{"url": "bogus://x"}], "sensors[0].driver": "serial"},
            "bridge.serial[0].url: 'bogus://x'",
        ),
        (
            {"bridge.serial": [{"url": "socket://no-port-here"}], "sensors[0].driver": "serial"},
            "bridge.serial[0].url",
        ),
        ({"api.host": "not a host!"}, "host"),
        ({"alerts.bridge_down_seconds": 1.0}, "alerts.bridge_down_seconds 1 must exceed"),
    ],
    ids=[
        "nan-threshold",
        "infinite-threshold",
        "nan-calibration",
        "infinite-worst-case-lux",
        "low-above-high",
        "warning-below-critical",
        "nanosecond-sensor-interval",
        "nanosecond-batch",
        "unknown-driver",
        "driver-of-another-quantity",
        "unknown-simulated-lamp",
        "unknown-location-lamp",
        "unknown-form",
        "unknown-packaging",
        "unknown-serial-scheme",
        "unparseable-serial-address",
        "bad-host",
        "bridge-down-before-its-commit",
    ],
)
def test_a_bad_setting_stops_run_before_any_child(
    tmp_path: Path, change: dict[str, object], key: str
) -> None:
    """Each setting the file gets wrong: named with the file and the key, status 2, nothing started."""
    config = write_site(tmp_path, change)
    result = run(tmp_path, "--simulate", "--config", str(config), "--port", str(free_port()))
    assert_refused(result, tmp_path, str(config), key)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--speed", "0"], "--speed"),
        (["--speed", "-5"], "--speed"),
        (["--speed", "nan"], "--speed"),
        (["--speed", "inf"], "--speed"),
        (["--scenario", "flood@1h"], "--scenario 'flood@1h': kind:"),
        (["--scenario", "door-left-open@1h:no-such-sensor"], "no sensor 'no-such-sensor'"),
        (["--port", "99999"], "--host/--port: port"),
    ],
    ids=[
        "speed-zero",
        "speed-negative",
        "speed-nan",
        "speed-infinite",
        "scenario-kind",
        "scenario-sensor",
        "port",
    ],
)
def test_a_bad_option_stops_run_before_any_child(tmp_path: Path, args: list[str], expected: str) -> None:
    """Command-line values are held to the same: one line, status 2, nothing started."""
    port = [] if "--port" in args else ["--port", str(free_port())]
    result = run(tmp_path, "--simulate", *port, *args)
    assert_refused(result, tmp_path, expected)


def test_a_taken_port_stops_run_before_any_child(tmp_path: Path) -> None:
    """Another process listens on the API's port: named, status 2, no bridge started beside nothing."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(tmp_path, "--simulate", "--port", str(port))
    assert_refused(result, tmp_path, f"api.port: cannot listen on 127.0.0.1:{port}", "taken")
