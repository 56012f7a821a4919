"""`vialguard fleet-demo` starts a private broker and PostgreSQL, central and simulated sites, restarts a
killed broker, and stops everything on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from fleet.engines.ports import free_port
from tests.fleet.fleet_system import wait_for

pytestmark = pytest.mark.slow


class Output(threading.Thread):
    """The demo's terminal, line by line."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.lines: list[str] = []

    def run(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def find(self, pattern: str) -> list[re.Match[str]]:
        return [m for line in list(self.lines) if (m := re.search(pattern, line))]


def _running(demo: subprocess.Popen[str], output: Output) -> bool:
    if demo.poll() is not None:
        raise AssertionError("the demo ended: " + "\n".join(output.lines))
    return True


def _sites(port: int, token: str) -> dict[str, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/sites", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return {s["site"]: s for s in json.loads(response.read())["sites"]}
    except (OSError, urllib.error.URLError):
        return {}


def _online_with_readings(port: int, token: str) -> bool:
    sites = _sites(port, token)
    return len(sites) == 2 and all(s["online"] and s["readings"] > 0 for s in sites.values())


def test_the_demo_starts_supervises_and_stops_a_fleet() -> None:
    """Two sites show online with readings at central; a SIGKILLed broker is restarted (a new pid) and
    the sites' readings keep arriving; SIGTERM stops the demo with status 0 and every process it ran."""
    # Under /tmp: a root test run runs PostgreSQL as the postgres user, who must reach the directory.
    directory = Path(tempfile.mkdtemp(prefix="vialguard-demo-"))
    directory.chmod(0o755)
    port = free_port()
    options = ["--sites", "2", "--speed", "60", "--dir", str(directory), "--port", str(port)]
    demo = subprocess.Popen(
        [sys.executable, "-m", "vialguard", "fleet-demo", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    output = Output(demo)
    output.start()
    try:
        wait_for(
            lambda: _running(demo, output) and bool(output.find("Press Ctrl-C to stop")), 120, "the greeting"
        )
        token = output.find(r"reads: +Authorization: Bearer (\S+)")[0].group(1)
        assert (directory / "central-read-token").read_text(encoding="utf-8").strip() == token
        wait_for(lambda: _running(demo, output) and _online_with_readings(port, token), 120, "sites online")
        assert output.find(rf"fleet: +http://127\.0\.0\.1:{port}/fleet")
        assert output.find(rf"central: +http://127\.0\.0\.1:{port}/api/v1/sites")
        assert len(output.find(r"site-\d: +http://127\.0\.0\.1:\d+/")) == 2
        broker_pid = int(output.find(r"broker: .*\(pid (\d+)\)")[0].group(1))
        os.kill(broker_pid, signal.SIGKILL)
        wait_for(lambda: bool(output.find(r"restarted broker \(pid \d+\)")), 30, "the broker restarted")
        restarted = int(output.find(r"restarted broker \(pid (\d+)\)")[0].group(1))
        assert restarted != broker_pid
        before = {s: v["readings"] for s, v in _sites(port, token).items()}
        wait_for(
            lambda: all(v["readings"] > before[s] for s, v in _sites(port, token).items()),
            60,
            "readings after the broker's restart",
        )
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=60) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        output.join(5)
        if demo.stdout is not None:
            demo.stdout.close()
        shutil.rmtree(directory, ignore_errors=True)
    assert output.find(r"fleet demo stopped")
    with pytest.raises(ProcessLookupError):
        os.kill(restarted, 0)
    assert _sites(port, token) == {}  # central is gone
