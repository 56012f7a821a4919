"""A private Mosquitto broker: a generated configuration, one loopback listener, started and stopped here.

Debian's ``mosquitto`` package provides ``/usr/sbin/mosquitto``. Started as root, Mosquitto switches to its
``user`` setting; the configuration names the current user, so the broker can write its log and
persistence file in the caller's directory.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from fleet.engines.ports import free_port, wait_listening
from fleet.errors import EngineError

START_TIMEOUT_SECONDS = 20.0


def mosquitto_binary() -> Path:
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise EngineError("mosquitto is not installed (Debian: apt-get install mosquitto; or make system-deps)")


@dataclass
class PrivateMosquitto:
    """A broker on ``127.0.0.1:port`` keeping its files under ``directory``.

    ``persistence`` off is Mosquitto's default: a killed broker forgets every queued message and retained
    payload. On, it saves to ``directory/mosquitto.db`` every ``autosave_seconds`` (and at a clean stop).
    """

    directory: Path
    port: int = field(default_factory=free_port)
    persistence: bool = False
    autosave_seconds: int = 1
    # Both given: users by password and the ACL (deploy/mosquitto/vialguard.acl); else anyone, anything.
    password_file: Path | None = None
    acl_file: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "mosquitto.log"

    def config_text(self) -> str:
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if self.password_file else 'true'}",
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            f"persistence {'true' if self.persistence else 'false'}",
        ]
        if self.password_file is not None:
            lines.append(f"password_file {self.password_file}")
        if self.acl_file is not None:
            lines.append(f"acl_file {self.acl_file}")
        if self.persistence:
            lines += [f"persistence_location {self.directory}/", f"autosave_interval {self.autosave_seconds}"]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "mosquitto.conf"
        config.write_text(self.config_text(), encoding="utf-8")
        self.process = subprocess.Popen(
            [str(mosquitto_binary()), "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        process = self.process
        wait_listening(
            self.port, START_TIMEOUT_SECONDS, lambda: process.poll() is None, "mosquitto", str(self.log_path)
        )

    def kill(self) -> None:
        """SIGKILL: what the broker had not saved is lost."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, signum: int) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            self.process.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
