"""The exit statuses of every ``vialguard`` command, one table: the ``--help`` epilog and main() read it.

0    done; a check found nothing wrong
1    a check failed: the command ran and found a problem (audit trail edited, ledger mismatch, a faulty
     sensor); its output names each one
2    usage: the command line, a settings or profile file, or a name given is wrong; the message says
     what to fix
3    runtime: the database, a bus, a file or the operating system failed; the message names it
4    internal error: a bug in vialguard (a traceback follows; please report it)
130  interrupted (Ctrl-C)
141  standard output was closed early (``vialguard ... | head``); ends quietly, as ``cat`` would
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from hardware.errors import HardwareError
from monitor.errors import (
    ConfigError,
    DatabaseBusy,
    DatabaseUnusable,
    InvalidRequest,
    NotFound,
    StoreError,
    VialguardError,
)

OK = 0
CHECK_FAILED = 1
USAGE = 2
RUNTIME = 3
INTERNAL = 4
INTERRUPTED = 130
CLOSED_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe


@dataclass(frozen=True, slots=True)
class ExitStatus:
    code: int
    meaning: str


STATUSES: tuple[ExitStatus, ...] = (
    ExitStatus(OK, "done; a check found nothing wrong"),
    ExitStatus(CHECK_FAILED, "a check found a problem (audit trail, database, sensors); the output names it"),
    ExitStatus(USAGE, "usage: the command line, a settings or profile file, or a name given is wrong"),
    ExitStatus(RUNTIME, "runtime: the database, a bus, a file or the system failed"),
    ExitStatus(INTERNAL, "internal error: a bug in vialguard (a traceback follows)"),
    ExitStatus(INTERRUPTED, "interrupted (Ctrl-C)"),
    ExitStatus(CLOSED_PIPE, "standard output closed early (e.g. `| head`); ends quietly"),
)

# The status of an error a command raises on purpose: the first row whose class matches.
ERROR_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (ConfigError, USAGE),
    # Another bridge holds the database: stop it or name another database; trying again will not help
    # (the supervisor does not restart a child that exits with USAGE).
    (DatabaseBusy, USAGE),
    # A read named no database, or one of another schema: name another database, or let the bridge
    # migrate it.
    (DatabaseUnusable, USAGE),
    (NotFound, USAGE),
    (InvalidRequest, USAGE),
    (StoreError, RUNTIME),
    (VialguardError, RUNTIME),
    (HardwareError, RUNTIME),
    (sqlite3.Error, RUNTIME),
    (OSError, RUNTIME),
)


def status_of(exc: BaseException) -> int:
    return next((code for kind, code in ERROR_STATUS if isinstance(exc, kind)), INTERNAL)


def epilog() -> str:
    return "exit status:\n" + "\n".join(f"  {s.code:<4} {s.meaning}" for s in STATUSES)
