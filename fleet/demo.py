"""``vialguard fleet-demo``: a whole fleet on one machine, to try it.

Under one directory: a private Mosquitto and PostgreSQL (:mod:`fleet.engines`), central, and N simulated
sites, each a ``vialguard run --simulate`` with its own settings and database, uplinking to central.
The demo supervises them as a fleet's operators would: a broker, central, database or site that dies is
started again (on the same port, so the others reconnect by themselves), each restart logged. SIGINT or
SIGTERM stops everything, sites first, so their last rows are committed before the broker goes.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg

from fleet.central import operators
from fleet.engines.mosquitto import PrivateMosquitto
from fleet.engines.ports import free_port, wait_listening
from fleet.engines.postgres import PrivatePostgres

log = logging.getLogger(__name__)

WATCH_SECONDS = 1.0
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
DEMO_READER = "fleet-demo-reader"


def site_settings(directory: Path, site: str, mqtt_url: str, api_port: int) -> Path:
    """The shipped simulated site, with its own database, API port and a [fleet] table."""
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{site}.toml"
    text = text.replace(
        'site_name = "Simulated pharmacy"',
        f'site_name = "Simulated pharmacy {site}"\ndb_path = "{directory / site}.db"',
    )
    path.write_text(
        f'{text}\n[api]\nport = {api_port}\n\n[fleet]\nsite = "{site}"\nmqtt = "{mqtt_url}"\n'
        "resend_seconds = 5.0\nheartbeat_seconds = 5.0\n",
        encoding="utf-8",
    )
    return path


@dataclass
class Process:
    """A vialguard command the demo runs and starts again when it dies."""

    name: str
    argv: list[str]
    log_path: Path
    port: int | None = None  # waited for at start, if it listens
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vialguard", *self.argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # the terminal's Ctrl-C reaches the demo, which stops us in order
            )
        if self.port is not None:
            process = self.process
            wait_listening(
                self.port,
                START_TIMEOUT_SECONDS,
                lambda: process.poll() is None,
                self.name,
                str(self.log_path),
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _postgres_alive(server: PrivatePostgres) -> bool:
    """The postmaster in its pid file is running (cheaper than ``pg_ctl status`` every second)."""
    try:
        pid = int((server.data_dir / "postmaster.pid").read_text(encoding="utf-8").split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def _announce(text: str) -> None:
    print(text, flush=True)  # noqa: T201  # the demo's user reads its terminal


def demo_read_token(database_url: str, directory: Path) -> str:
    """A fresh ``read`` operator token for the demo's user (central takes no anonymous reads), the one a
    previous run of the demo made revoked; also written to ``directory/central-read-token``."""
    now = time.time()
    with psycopg.connect(database_url, autocommit=True) as conn:
        if any(t.name == DEMO_READER and t.state(now) == "live" for t in operators.list_all(conn)):
            operators.revoke(conn, DEMO_READER, now, "console:fleet-demo")
        _, text = operators.create(conn, DEMO_READER, "read", now, None, "console:fleet-demo")
    path = directory / "central-read-token"
    path.write_text(text + "\n", encoding="utf-8")
    path.chmod(0o600)
    return text


def run_demo(sites: int, speed: float, directory: Path, port: int, stop: threading.Event) -> int:
    """Start the fleet, print where to look, supervise until ``stop`` is set, stop it all."""
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    broker = PrivateMosquitto(directory / "mosquitto")
    database = PrivatePostgres(directory / "postgres")
    central = Process(
        "central",
        ["central", "--database", database.url(), "--mqtt", broker.url, "--port", str(port)],
        directory / "central.log",
        port,
    )
    site_processes = []
    for i in range(1, sites + 1):
        name = f"site-{i}"
        api_port = free_port()
        settings = site_settings(directory / "sites", name, broker.url, api_port)
        site_processes.append(
            Process(
                name,
                ["run", "--simulate", "--speed", repr(speed), "--config", str(settings)],
                directory / "sites" / f"{name}.log",
                api_port,
            )
        )
    try:
        broker.start()
        database.initialise()
        database.start_if_stopped()
        central.start()
        token = demo_read_token(database.url(), directory)
        for site in site_processes:
            site.start()
        _announce(f"fleet demo: {sites} simulated sites at {speed:g}x, files under {directory}")
        _announce(f"  fleet:     http://127.0.0.1:{port}/fleet")
        _announce(
            f"  central:   http://127.0.0.1:{port}/api/v1/sites   http://127.0.0.1:{port}/api/v1/fleet/alerts"
        )
        _announce(f"  reads:     Authorization: Bearer {token}  (also in {directory / 'central-read-token'})")
        for site in site_processes:
            _announce(f"  {site.name}:    http://127.0.0.1:{site.port}/")
        _announce(f"  broker:    {broker.url} (pid {_pid(broker.process)})")
        _announce(f"  database:  {database.url()}")
        _announce(
            f"  writes:    vialguard central-token create --database {database.url()}"
            " --name you --scope write"
        )
        _announce("Press Ctrl-C to stop.")
        _supervise(broker, database, central, site_processes, stop)
    finally:
        for site in site_processes:
            site.stop()
        central.stop()
        broker.stop()
        database.stop("fast")
        _announce("fleet demo stopped")
    return 0


def _pid(process: subprocess.Popen[bytes] | None) -> int | None:
    return None if process is None else process.pid


def _supervise(
    broker: PrivateMosquitto,
    database: PrivatePostgres,
    central: Process,
    sites: list[Process],
    stop: threading.Event,
) -> None:
    watched: list[tuple[str, Callable[[], bool], Callable[[], None]]] = [
        ("broker", lambda: broker.process is not None and broker.process.poll() is None, broker.start),
        ("database", lambda: _postgres_alive(database), database.start),
        ("central", central.alive, central.start),
        *((s.name, s.alive, s.start) for s in sites),
    ]
    while not stop.wait(WATCH_SECONDS):
        for name, alive, start in watched:
            if stop.is_set() or alive():
                continue
            log.warning("%s is down; starting it again", name)
            start()
            pid = _pid(broker.process) if name == "broker" else None
            _announce(f"restarted {name}" + (f" (pid {pid})" if pid is not None else ""))
