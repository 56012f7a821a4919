"""Log lines for systemd's journal: a `<N>` syslog priority on each line when stderr is the journal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def journal_pipe() -> tuple[int, int, str]:
    """A pipe for a child's stderr and the JOURNAL_STREAM value naming it, as systemd's stream would be."""
    read_fd, write_fd = os.pipe()
    st = os.fstat(write_fd)
    return read_fd, write_fd, f"{st.st_dev}:{st.st_ino}"


LOGGING_PROGRAM = """
import logging
from vialguard.logs import configure_logging
configure_logging()
log = logging.getLogger("probe")
log.info("an info")
log.warning("a warning")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("an error")
log.critical("a critical")
"""


def test_journal_lines_carry_syslog_priorities(tmp_path: Path) -> None:
    """With JOURNAL_STREAM naming stderr, each line (a traceback's too) starts with its `<N>` priority."""
    read_fd, write_fd, stream = journal_pipe()
    env = {**os.environ, "JOURNAL_STREAM": stream}
    subprocess.run([sys.executable, "-c", LOGGING_PROGRAM], stderr=write_fd, env=env, check=True, cwd=ROOT)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        lines = pipe.read().decode().splitlines()
    assert lines[:4] == [
        "<6>probe: an info",
        "<4>probe: a warning",
        "<3>probe: an error",
        "<3>Traceback (most recent call last):",
    ]
    assert lines[-2:] == ["<3>ZeroDivisionError: division by zero", "<2>probe: a critical"]
    assert all(line.startswith("<3>") for line in lines[2:-1])


def test_an_inherited_journal_stream_variable_is_not_the_journal(tmp_path: Path) -> None:
    """JOURNAL_STREAM naming another stream (a shell started from a unit): plain timed lines, no prefix."""
    read_fd, write_fd, _ = journal_pipe()
    other_read, other_write, stream = journal_pipe()
    env = {**os.environ, "JOURNAL_STREAM": stream}
    subprocess.run([sys.executable, "-c", LOGGING_PROGRAM], stderr=write_fd, env=env, check=True, cwd=ROOT)
    for fd in (write_fd, other_read, other_write):
        os.close(fd)
    with os.fdopen(read_fd, "rb") as pipe:
        first = pipe.read().decode().splitlines()[0]
    assert first.endswith(" INFO probe: an info")
    assert not first.startswith("<")
