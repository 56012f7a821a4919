"""How the audit trail names a change made at the console: the operating-system user who ran the command."""

from __future__ import annotations

import getpass


def console_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry, e.g. an unnamed container uid
        user = "unknown"
    return f"console:{user}"
