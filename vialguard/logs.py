"""Log handlers for the command line and for systemd's journal.

Under systemd, stderr is a stream into the journal, and systemd says so in ``JOURNAL_STREAM``
(``device:inode`` of that stream; systemd.exec(5)). The journal stamps each line with its own time and
takes a ``<N>`` prefix as the line's syslog priority (sd-daemon(3)), so there every line starts with its
priority and carries no time of ours: ``journalctl -p warning -u vialguard-bridge`` then shows the warnings
and worse. A traceback's continuation lines carry the prefix too, so they stay with their error.
Elsewhere (a terminal, a file, the test's pipe) lines keep the time and the level name.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

# Python's levels to syslog's priorities (RFC 5424 §6.2.1); a level between two takes the lower's.
SYSLOG_PRIORITIES = (
    (logging.CRITICAL, 2),  # crit
    (logging.ERROR, 3),  # err
    (logging.WARNING, 4),  # warning
    (logging.INFO, 6),  # info
    (logging.NOTSET, 7),  # debug
)
TERMINAL_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(name)s: %(message)s"


def syslog_priority(levelno: int) -> int:
    return next(priority for level, priority in SYSLOG_PRIORITIES if levelno >= level)


class JournalFormatter(logging.Formatter):
    """Each line of a record prefixed with ``<N>``, its syslog priority."""

    def __init__(self) -> None:
        super().__init__(JOURNAL_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def stream_is_journal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether ``stream`` is the journal stream systemd connected (not merely inherited the variable)."""
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        st = os.fstat(stream.fileno())
        return (st.st_dev, st.st_ino) == (int(device), int(inode))
    except (OSError, ValueError):  # no variable, a malformed one, or a stream with no descriptor
        return False


def configure_logging(level: int = logging.INFO, environ: Mapping[str, str] | None = None) -> None:
    """The root logger's one handler, on stderr: journal lines under systemd, timed lines elsewhere."""
    stream = sys.stderr
    journal = stream_is_journal(stream, os.environ if environ is None else environ)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JournalFormatter() if journal else logging.Formatter(TERMINAL_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
