"""19: the commands the fleet's central sent this site, each remembered once applied or refused
(:mod:`monitor.store.fleet_commands`), so that a command delivered twice takes effect once and gets the
same result again.

The row is written in the transaction that applies the command (with its audit row), so a site that
stops between the two has done both or neither.
"""

from __future__ import annotations

from monitor.store.fleet_commands import MIGRATION as SQL

__all__ = ["SQL"]
