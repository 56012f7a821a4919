"""The fleet as real processes for the tests: central, and sites' bridges and uplinks, on free ports."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg

from fleet.central import operators
from fleet.engines.ports import free_port, wait_listening
from fleet.engines.postgres import PrivatePostgres

# Quick to notice a lost batch, so the tests' faults heal in seconds rather than the default half-minute.
FLEET_TABLE = """
[fleet]
site = "{site}"
mqtt = "{mqtt}"
batch_rows = 200
resend_seconds = 2.0
heartbeat_seconds = 1.0
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def site_config(
    directory: Path,
    site: str,
    mqtt_url: str,
    sample_seconds: tuple[float, float] | None = None,
    fleet_extra: str = "",
) -> Path:
    """The shipped simulated site with a [fleet] table naming ``site`` and the broker; ``sample_seconds``
    (light, temperature) replaces the sensors' intervals, ``fleet_extra`` adds lines to the table."""
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    if sample_seconds is not None:
        text = text.replace("interval_seconds = 1.0", f"interval_seconds = {sample_seconds[0]!r}")
        text = text.replace("interval_seconds = 10.0", f"interval_seconds = {sample_seconds[1]!r}")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{site}.toml"
    path.write_text(
        text.replace(
            'site_name = "Simulated pharmacy"', f'site_name = "{site}"\ndb_path = "{directory / site}.db"'
        )
        + FLEET_TABLE.format(site=site, mqtt=mqtt_url)
        + fleet_extra,
        encoding="utf-8",
    )
    return path


def vialguard(*args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "vialguard", *args], stdout=out, stderr=subprocess.STDOUT, env=_env()
        )


def stop(process: subprocess.Popen[bytes] | None, signum: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signum)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Central:
    database_url: str
    mqtt_url: str
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    # An operator token of scope admin, made at the first start: central takes no anonymous reads.
    token: str = ""

    def start(self) -> None:
        self.process = vialguard(
            "central",
            "--database",
            self.database_url,
            "--mqtt",
            self.mqtt_url,
            "--port",
            str(self.port),
            log=self.directory / "central.log",
        )
        process = self.process
        wait_listening(self.port, 60.0, lambda: process.poll() is None, "central", str(self.directory))
        if not self.token:  # central has migrated its schema once it listens
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                _, self.token = operators.create(
                    conn, f"tests-{self.port}", "admin", time.time(), None, "console:test"
                )

    def get(self, path: str) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def sites(self) -> dict[str, dict[str, Any]]:
        return {s["site"]: s for s in self.get("/api/v1/sites")["sites"]}

    def alert_feed(self, after: int = 0) -> list[dict[str, Any]]:
        changes: list[dict[str, Any]] = []
        while True:
            page = self.get(f"/api/v1/fleet/alerts?after={after}&limit=1000")["changes"]
            if not page:
                return changes
            changes += page
            after = page[-1]["cursor"]


def create_database(cluster: PrivatePostgres, name: str) -> str:
    """The URL of a new, empty database ``name`` in ``cluster`` (running, whatever the last test did)."""
    cluster.start_if_stopped()
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return cluster.url(name)


def drop_database(cluster: PrivatePostgres, name: str) -> None:
    cluster.start_if_stopped()
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def microseconds(ts: float) -> int:
    """A time as central keeps it (PostgreSQL's timestamptz): to the microsecond."""
    return round(ts * 1e6)


def site_readings(db: Path) -> set[tuple[str, str, int]]:
    """Every reading a site holds, as (quantity, sensor, microseconds)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT 'light', s.key, r.ts FROM light_readings r JOIN sensors s ON s.id = r.sensor_id"
            " UNION ALL SELECT 'temperature', s.key, r.ts FROM temperature_readings r"
            " JOIN sensors s ON s.id = r.sensor_id"
        ).fetchall()
    finally:
        conn.close()
    return {(q, k, microseconds(t)) for q, k, t in rows}


def site_count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def wait_for(condition: Callable[[], bool], timeout_seconds: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout_seconds`` (a bound on a
    hang, never a measured speed)."""
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def central_readings(url: str, site: str) -> list[tuple[str, str, int]]:
    """Every reading central holds for ``site``, as (quantity, sensor, microseconds), duplicates kept."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT 'light', sensor, extract(epoch FROM ts) FROM light_readings WHERE site = %s"
            " UNION ALL SELECT 'temperature', sensor, extract(epoch FROM ts) FROM temperature_readings"
            " WHERE site = %s",
            (site, site),
        ).fetchall()
    return [(q, s, microseconds(float(t))) for q, s, t in rows]
