"""The command line: clear errors for bad input, scenario syntax, and supervision of the children."""

from __future__ import annotations

import os
import signal
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from monitor.errors import ConfigError
from tests.system_process import free_port, start_system
from vialguard.cli import main
from vialguard.options import parse_duration, parse_scenario


def test_run_without_config_or_simulate_names_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    """`vialguard run` with neither --config nor --simulate exits 2 saying what to pass."""
    assert main(["run"]) == 2
    assert "no --config given" in capsys.readouterr().err


def test_bad_config_file_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken settings file stops the command at once, naming file and key."""
    bad = tmp_path / "site.toml"
    bad.write_text('[[locations]]\nkey = "Fridge One"\nname = "x"\n', encoding="utf-8")
    assert main(["bridge", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "locations[0].key" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "door-left-open@10m+2h",
            {"kind": "door-left-open", "start_after_seconds": 600.0, "duration_seconds": 7200.0},
        ),
        (
            "sensor-dropout@90+30s:fridge-1-lux",
            {
                "kind": "sensor-dropout",
                "start_after_seconds": 90.0,
                "duration_seconds": 30.0,
                "sensor": "fridge-1-lux",
            },
        ),
        (
            "light-stuck-on@1h",
            {"kind": "light-stuck-on", "start_after_seconds": 3600.0, "duration_seconds": 3600.0},
        ),
    ],
    ids=["door", "dropout-with-sensor", "default-duration"],
)
def test_scenario_syntax(text: str, expected: dict[str, object]) -> None:
    """KIND@START[+DURATION][:SENSOR] with s/m/h/d units."""
    assert parse_scenario(text) == expected


@pytest.mark.parametrize(
    "text", ["door-left-open", "door@soon", "door@1h+forever"], ids=["no-at", "bad-start", "bad-duration"]
)
def test_bad_scenario_is_a_config_error(text: str) -> None:
    """A scenario that does not parse is refused with the expected syntax or unit in the message."""
    with pytest.raises(ConfigError):
        parse_scenario(text)


def test_unknown_scenario_kind_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A scenario kind the simulator does not know is refused naming it."""
    assert main(["bridge", "--simulate", "--db", str(tmp_path / "v.db"), "--scenario", "flood@1h"]) == 2
    assert "--scenario 'flood@1h'" in capsys.readouterr().err


def test_durations() -> None:
    """Durations accept bare seconds and s/m/h/d suffixes."""
    assert [parse_duration(x) for x in ("90", "90s", "10m", "2h", "1d")] == [90, 90, 600, 7200, 86400]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _cmdline(pid: int) -> str:
    """The process's command line; empty once it has gone (a killed child vanishes between the listing of
    its parent's children and this read)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return ""


@pytest.mark.slow
def test_supervisor_restarts_a_killed_child(tmp_path: Path) -> None:
    """The bridge killed with SIGKILL is restarted by `vialguard run`, and data keeps flowing."""
    port = free_port()
    proc = start_system(tmp_path / "v.db", port, speed=60)
    try:
        deadline = time.monotonic() + 30
        bridge = None
        while bridge is None and time.monotonic() < deadline:
            bridge = next((c for c in _children(proc.pid) if " bridge " in _cmdline(c)), None)
            time.sleep(0.05)  # waiting for another process to start: no clock of ours drives it
        assert bridge is not None
        os.kill(bridge, signal.SIGKILL)
        restarted = None
        while restarted is None and time.monotonic() < deadline:
            restarted = next(
                (c for c in _children(proc.pid) if " bridge " in _cmdline(c) and c != bridge), None
            )
            time.sleep(0.05)
        assert restarted is not None, "bridge was not restarted"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            total = 0
            while time.monotonic() < deadline:
                try:
                    health = client.get("/healthz").json()
                except httpx.TransportError:
                    time.sleep(0.1)
                    continue
                total = health.get("readings_total") or 0
                if health["status"] == "ok" and total > 0:
                    break
                time.sleep(0.1)
            assert total > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out.decode()
    assert "bridge exited with -9; restarting" in out.decode()


@pytest.mark.slow
def test_ctrl_c_stops_everything_at_once_and_responses_carry_the_date(tmp_path: Path) -> None:
    """SIGINT reaches the sleeping supervisor and the tickless API: all stop with exit 0 within 5 s.

    The API's Date header, which uvicorn would refresh every second, is formatted per response.
    """
    port = free_port()
    proc = start_system(tmp_path / "v.db", port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    response = client.get("/healthz")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the API did not answer within 30 s"
                    time.sleep(0.1)  # another process starting: nothing of ours to drive
            time.sleep(2.5)  # the Date must follow the clock, not stay at the server's start
            response = client.get("/healthz")
        sent = parsedate_to_datetime(response.headers["date"]).timestamp()
        assert abs(sent - time.time()) < 2.0
        assert len(response.headers.get_list("date")) == 1
    finally:
        stop_at = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    text = out.decode()
    assert time.monotonic() - stop_at < 5.0, text
    assert proc.returncode == 0, text
    assert "bridge stopped (exit 0)" in text
    assert "api stopped (exit 0)" in text


def test_sensors_read_simulated_reads_through_genuine_drivers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sensors read --simulate --json` reads each configured chip once, with raw counts and status."""
    import json

    assert main(["sensors", "read", "--simulate", "--json", "--db", str(tmp_path / "v.db")]) == 0
    rows = {r["sensor"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["fridge-1-lux"]["driver"] == "tsl2591"
    assert len(rows["fridge-1-lux"]["raw_counts"]) == 2
    assert 2.0 <= rows["fridge-1-temp"]["celsius"] <= 8.0


def test_sensors_read_simulated_sees_a_scenario_starting_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--scenario door-left-open@0` is in force at the one read: the lamp's light, not the dark fridge."""
    import json

    db = ["--db", str(tmp_path / "v.db")]
    assert main(["sensors", "read", "--simulate", "--json", "--scenario", "door-left-open@0", *db]) == 0
    rows = {r["sensor"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["fridge-1-lux"]["lux"] > 100.0


def test_sensors_scan_simulated_names_the_chips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`sensors scan --simulate` lists the emulated chips by address and name."""
    assert main(["sensors", "scan", "--simulate", "--db", str(tmp_path / "v.db")]) == 0
    out = capsys.readouterr().out
    assert "0x29  tsl2591" in out
    assert "0x18  mcp9808" in out


@pytest.mark.skipif(Path("/dev/i2c-1").exists(), reason="this machine has a real I2C bus")
def test_real_bus_off_a_pi_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Off a Raspberry Pi, opening the real bus fails with advice, not a traceback."""
    code = main(["sensors", "scan"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot open I2C bus 1" in err
