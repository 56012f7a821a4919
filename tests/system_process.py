"""The whole system as a real process: ``vialguard run --simulate`` on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fleet.engines.ports import free_port

__all__ = ["free_port", "start_system"]


def start_system(db: Path, port: int, *args: str, speed: int = 600) -> subprocess.Popen[bytes]:
    """``vialguard run --simulate`` at ``speed`` on ``port`` with ``db``; output unbuffered on stdout."""
    command = [sys.executable, "-m", "vialguard", "run", "--simulate", "--speed", str(speed)]
    return subprocess.Popen(
        [*command, "--port", str(port), "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
