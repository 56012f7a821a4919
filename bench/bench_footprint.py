"""Footprint of the whole simulated system at default rates: CPU per simulated day, memory, start-up.

``vialguard run --simulate`` runs at speed 1 (the shipped site: one fridge, a TSL2591 read every second and
an MCP9808 every ten, through the genuine drivers on emulated chips), as three processes: supervisor,
bridge, API, with the bridge's default commit window as a Pi runs it (spooled every 2 s, committed every
30 s), and again as shipped for the live demo (committed every 2 s). Figures and their baselines, all
measured in this run:

- CPU seconds per simulated day: the CPU time of all three processes over a steady-state window, scaled
  to a day, against the CPU time of reading the same sensors through the same drivers at the same rates
  and doing nothing else (the floor any implementation pays), measured the same way: a loop that sleeps
  until each read is due, over the same window, scaled to a day. (A tight loop of reads would understate
  the floor several times over: a read after a second's sleep finds the CPU caches cold.) The emulated
  chips cost CPU here that a real bus does not, so on a Pi the floor is lower and the ratio higher.
- Resident memory per process (VmRSS at the end of the window), against a bare interpreter that has
  imported numpy, FastAPI and uvicorn (the libraries' own floor).
- Time from start until the first reading is served by ``/api/v1/locations``, against the time a bare
  FastAPI app on uvicorn takes to answer its first request.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bench.harness import Figure, figure, median_time
from firmware_bridge.acquisition import SampleTime
from firmware_bridge.sensors import build_fridge, build_simulated_sensors
from hardware.sensor import LightSensor
from monitor.config import parse_settings

_VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            out.extend(_tree(int(child)))
    return out


def _cpu_seconds(pid: int) -> float:
    """CPU time of every thread of ``pid``, in nanosecond resolution (``/proc/.../schedstat``).

    ``/proc/PID/stat`` counts in 10 ms ticks, too coarse for a process that idles at a fraction of a
    millisecond a second.
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended between listing and reading
    return total / 1e9


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _role(pid: int) -> str:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    for role in (b"bridge", b"api"):
        if role in argv:
            return role.decode()
    return "supervisor"


def _wait_for(url: str, proc: subprocess.Popen[bytes], ready: str, timeout: float = 30.0) -> float:
    """Seconds until ``url`` answers with a body containing ``ready``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if ready in response.read().decode():
                    return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"{url} did not answer with {ready!r} within {timeout:.0f} s")


def _first_reading_served(url: str, proc: subprocess.Popen[bytes], start: float) -> float:
    """Seconds from ``start`` until ``url`` lists a location with a lux reading."""
    while time.monotonic() - start < 30.0:
        _wait_for(url, proc, "[")
        with urllib.request.urlopen(url, timeout=2) as response:
            if any(loc.get("lux") is not None for loc in json.load(response)):
                return time.monotonic() - start
        time.sleep(0.01)
    raise RuntimeError("no reading served within 30 s")


def _bare_start_seconds() -> float:
    port = _free_port()
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "bench.bare_server", "--port", str(port)])
    try:
        _wait_for(f"http://127.0.0.1:{port}/bench/bare", proc, "ok")
        return time.monotonic() - start
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _floor_rss_mb() -> float:
    code = (
        "import numpy, fastapi, uvicorn, pathlib\n"
        "status = pathlib.Path('/proc/self/status').read_text().splitlines()\n"
        "print([line for line in status if line.startswith('VmRSS')][0])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(out.split()[1]) / 1024


def _floor_cpu_per_day(window: float) -> float:
    """CPU seconds a day of reading the shipped site's sensors at its rates, and nothing else.

    The reads run at the production cadence (sleeping until each is due, the TSL2591 every second and the
    MCP9808 every ten) for ``window`` seconds, scaled to a day like the system's own figure: a read after
    a second's sleep finds the caches cold and costs several times what it does in a tight loop.
    """
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    settings = parse_settings(tomllib.loads(text), "simulated.toml", {"db_path": Path("unused.db")})
    sample_time = SampleTime(time.time())
    sensors, _ = build_simulated_sensors(
        settings, build_fridge(settings.simulation, time.time()), sample_time
    )
    # Each sensor's read, resolved once (a runtime Protocol check costs more than a read), then called once
    # before timing: the first read constructs the driver, which is start-up, not steady state.
    reads: list[Callable[[], object]] = [
        s.sensor.read_light if isinstance(s.sensor, LightSensor) else s.sensor.read_temperature
        for s in sensors
    ]
    for read in reads:
        read()
    start = time.monotonic()
    due = [start + s.interval_seconds for s in sensors]
    cpu0 = time.thread_time()
    while (now := time.monotonic()) < start + window:
        time.sleep(max(min(due) - now, 0.0))
        sample_time.value = time.time()
        now = time.monotonic()
        for i, read in enumerate(reads):
            if due[i] <= now:
                read()
                due[i] += sensors[i].interval_seconds
    return (time.thread_time() - cpu0) / (time.monotonic() - start) * 86_400


@dataclass(frozen=True)
class _Run:
    first_served: float  # seconds from start to the first reading served
    cpu_per_day: float  # CPU seconds of all processes per day, scaled from the window
    rss_mb: dict[str, float]  # by role


def _measure(window: float, config: Path | None) -> _Run:
    """``vialguard run --simulate`` (with ``config``, else the shipped site) for ``window`` seconds."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as d:
        cmd = [str(_VENV_BIN / "vialguard"), "run", "--simulate", "--db", str(Path(d) / "v.db")]
        cmd += ["--port", str(port), *(["--config", str(config)] if config is not None else [])]
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            first = _first_reading_served(f"http://127.0.0.1:{port}/api/v1/locations", proc, start)
            time.sleep(1.0)  # let start-up work (imports, migrations, first batch) finish
            pids = _tree(proc.pid)
            cpu0 = {p: _cpu_seconds(p) for p in pids}
            time.sleep(window)
            cpu = sum(_cpu_seconds(p) - cpu0[p] for p in pids)
            rss = {_role(p): _rss_mb(p) for p in pids}
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    return _Run(first, cpu / window * 86_400, rss)


def _deployment_config(directory: Path) -> Path:
    """The shipped simulated site with the bridge's default commit window (30 s, spooled every 2 s).

    The shipped site commits every 2 s batch so that its dashboard is live at any ``--speed``; a Pi in a
    pharmacy runs the defaults, and that is what its CPU pays for.
    """
    shipped = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    lines = [line for line in shipped.splitlines() if not line.startswith("commit_seconds")]
    path = directory / "deployment.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "commit_seconds" not in tomllib.loads(path.read_text("utf-8"))["bridge"]
    return path


def run(smoke: bool) -> list[Figure]:
    window = 3.0 if smoke else 60.0
    with tempfile.TemporaryDirectory() as d:
        deployed = _measure(window, _deployment_config(Path(d)))
    demo = _measure(window / 2, None)
    floor_cpu = _floor_cpu_per_day(window)
    floor_rss = _floor_rss_mb()
    bare_start = median_time(_bare_start_seconds, 1 if smoke else 3)
    figures = [
        figure(
            "Footprint: CPU per simulated day, one fridge, all processes (default commit window, 30 s)",
            deployed.cpu_per_day,
            floor_cpu,
            "reading the same sensors alone, at the same rates (1 s sleep loop)",
            "CPU s",
            "< 60 CPU s",
            deployed.cpu_per_day < 60.0,
        ),
        figure(
            "Footprint: the same, as shipped for the live demo (a commit every 2 s)",
            demo.cpu_per_day,
            floor_cpu,
            "reading the same sensors alone, at the same rates (1 s sleep loop)",
            "CPU s",
            "reported",
            True,
        ),
    ]
    for role in ("bridge", "api", "supervisor"):
        figures.append(
            figure(
                f"Footprint: resident memory, {role}",
                deployed.rss_mb[role],
                floor_rss,
                "python + numpy, fastapi, uvicorn imported",
                "MB",
                "< 80 MB",
                deployed.rss_mb[role] < 80.0,
            )
        )
    figures.append(
        figure(
            "Footprint: start to first reading served",
            deployed.first_served,
            bare_start,
            "bare FastAPI app's first answer",
            "s",
            "< 2 s",
            deployed.first_served < 2.0,
        )
    )
    return figures
