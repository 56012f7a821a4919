"""API polling with ETag: 50 and 200 concurrent pollers on loopback, against a bare endpoint.

One uvicorn server (``bench.api_server``, a separate process) serves vialguard's app and, beside it, a
bare ``async def`` endpoint that returns a constant: the baseline shares the server, event loop and HTTP
stack, so the ratio is what vialguard's own work costs. The pollers are wrk (Debian's ``wrk``), each
connection asking for the alert list with the ``If-None-Match`` of the current page, as an integrator's
poller does between changes. Throughput is requests per second; latency is wrk's p99.
"""

from __future__ import annotations

import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.harness import Figure, figure

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> str:
    """Wait for the server, and return the ETag of the alert list."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"benchmark API server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.headers["ETag"])
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"benchmark API server not answering {url} after {timeout:.0f} s")


def wrk(url: str, connections: int, seconds: float, headers: dict[str, str]) -> tuple[float, float]:
    """Requests per second and p99 latency (ms) from one wrk run."""
    args = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds:g}s", "--latency", url]
    for name, value in headers.items():
        args[1:1] = ["-H", f"{name}: {value}"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"errors from {url}:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out)
    if rate is None or p99 is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    return float(rate.group(1)), float(p99.group(1)) * _UNITS[p99.group(2)]


def _read_token(db: Path) -> str:
    """A read token in the benchmark's database, as `vialguard token create --scope read` makes one."""
    from monitor.store import Database
    from monitor.store import tokens as token_store
    from monitor.store.database import transaction

    conn = Database(db).connect()
    try:
        with transaction(conn):
            return token_store.create(conn, "bench", "read", time.time())[1]
    finally:
        conn.close()


def run(smoke: bool) -> list[Figure]:
    if shutil.which("wrk") is None:
        raise RuntimeError("the API benchmark needs wrk (Debian package 'wrk'); `make bench` installs it")
    seconds, repeats = (1.0, 1) if smoke else (5.0, 3)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, "-m", "bench.api_server", "--port", str(port), "--db", str(Path(d) / "v.db")]
        proc = subprocess.Popen(cmd)
        try:
            etag = _wait_ready(f"{base}/api/v1/alerts?since=0", proc)
            token = _read_token(Path(d) / "v.db")
            figures = []
            for pollers in (10,) if smoke else (50, 200):
                ours = [
                    wrk(f"{base}/api/v1/alerts?since=0", pollers, seconds, {"If-None-Match": etag})
                    for _ in range(repeats)
                ]
                bare = [wrk(f"{base}/bench/bare", pollers, seconds, {}) for _ in range(repeats)]
                rate, bare_rate = statistics.median(r for r, _ in ours), statistics.median(r for r, _ in bare)
                p99, bare_p99 = statistics.median(p for _, p in ours), statistics.median(p for _, p in bare)
                figures.append(
                    figure(
                        f"API: alert polls with ETag, {pollers} pollers",
                        rate,
                        bare_rate,
                        "bare FastAPI endpoint, same server",
                        "req/s",
                        "ratio >= 0.7",
                        rate >= 0.7 * bare_rate,
                    )
                )
                if pollers != 200:
                    # An integrator off the Pi sends a read token: one indexed lookup and a digest per poll.
                    auth = {"If-None-Match": etag, "Authorization": f"Bearer {token}"}
                    held = [
                        wrk(f"{base}/api/v1/alerts?since=0", pollers, seconds, auth) for _ in range(repeats)
                    ]
                    held_rate = statistics.median(r for r, _ in held)
                    figures.append(
                        figure(
                            f"API: alert polls with ETag and a read token, {pollers} pollers",
                            held_rate,
                            bare_rate,
                            "bare FastAPI endpoint, same server",
                            "req/s",
                            "ratio >= 0.7",
                            held_rate >= 0.7 * bare_rate,
                        )
                    )
                target = "< 20 ms" if pollers == 50 else "reported"
                figures.append(
                    figure(
                        f"API: p99 latency, {pollers} pollers",
                        p99,
                        bare_p99,
                        "bare FastAPI endpoint, same server",
                        "ms",
                        target,
                        p99 < 20.0 if pollers == 50 else True,
                    )
                )
            return figures
        finally:
            proc.terminate()
            proc.wait(timeout=10)
