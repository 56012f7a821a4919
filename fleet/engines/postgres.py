"""A private PostgreSQL server: its own cluster under a directory, on a loopback port, no Unix socket.

The binaries come from Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``). ``initdb``
refuses to run as root, and so does the server; as PostgreSQL's own tools do, a root caller runs them as
the unprivileged ``postgres`` user (created by the Debian package) through ``runuser``, with the cluster's
directory owned by that user. The cluster trusts every connection from loopback: it is private to its
caller, never a production setting.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from fleet.engines.ports import free_port
from fleet.errors import EngineError

SUPERUSER = "vialguard"
DATABASE = "vialguard"
UNPRIVILEGED_USER = "postgres"
START_TIMEOUT_SECONDS = 60

StopMode = Literal["smart", "fast", "immediate"]


def postgres_bin_dir() -> Path:
    """The newest installed PostgreSQL's binaries."""
    found = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise EngineError(
            "PostgreSQL's server is not installed (Debian: apt-get install postgresql; or make system-deps)"
        )
    return found[-1]


def _as_owner() -> list[str]:
    """The command prefix that runs a server tool as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError as exc:
        raise EngineError(
            f"running as root, PostgreSQL needs an unprivileged user {UNPRIVILEGED_USER!r} (Debian's"
            " postgresql package creates it)"
        ) from exc
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", UNPRIVILEGED_USER, "--"]


def _give_to_owner(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class PrivatePostgres:
    """A cluster in ``directory/data`` served on ``127.0.0.1:port``.

    ``durable`` False turns ``fsync`` off: a killed server (or ``stop("immediate")``) still recovers every
    commit from its WAL in the operating system's cache; only a machine's power loss could lose them.
    The tests' servers run so, to spare the shared disk.
    """

    directory: Path
    port: int = field(default_factory=free_port)
    durable: bool = True

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_path(self) -> Path:
        return self.directory / "postgres.log"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, argv: list[str], what: str) -> None:
        done = subprocess.run(
            [*_as_owner(), *argv], capture_output=True, text=True, check=False, cwd=self.directory
        )
        if done.returncode != 0:
            said = done.stderr.strip() or done.stdout.strip()
            raise EngineError(f"{what} failed ({done.returncode}): {said}")

    def initialise(self) -> None:
        """Create the cluster and its database (once: a second call on the same directory does nothing)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _give_to_owner(self.directory)
        if (self.data_dir / "PG_VERSION").is_file():
            return
        bin_dir = postgres_bin_dir()
        self._run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                *([] if self.durable else ["--no-sync"]),
            ],
            "initdb",
        )
        self.start()
        self._run(
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, DATABASE],
            "createdb",
        )

    def start(self) -> None:
        options = [
            f"-c port={self.port}",
            "-c listen_addresses=127.0.0.1",
            "-c unix_socket_directories=''",
            "-c max_connections=50",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c full_page_writes=off"]
        self._run(
            [
                str(postgres_bin_dir() / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "-o",
                " ".join(options),
                "start",
            ],
            f"starting PostgreSQL (log: {self.log_path})",
        )

    def running(self) -> bool:
        done = subprocess.run(
            [*_as_owner(), str(postgres_bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "status"],
            capture_output=True,
            check=False,
            cwd=self.directory,
        )
        return done.returncode == 0

    def start_if_stopped(self) -> None:
        if not self.running():
            self.start()

    def stop(self, mode: StopMode = "fast") -> None:
        """``immediate`` is a crash as far as the data is concerned: the next start recovers from the WAL."""
        if not (self.data_dir / "postmaster.pid").is_file():
            return
        self._run(
            [str(postgres_bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"],
            f"stopping PostgreSQL ({mode})",
        )
