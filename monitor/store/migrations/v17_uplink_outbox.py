"""17: the fleet uplink's outbox (:mod:`monitor.store.outbox`): triggers queue every reading, gap, vial
event, alert change and audit row in the transaction that writes it, while ``uplink_state`` has its row.

The statements are built in :mod:`monitor.store.outbox`, whose JSON shapes the back-fill of
:func:`monitor.store.outbox.enable` shares; ``schema.sql`` holds the triggers' text, so a change there
fails ``tests/monitor/test_schema.py`` until a new migration recreates them.
"""

from __future__ import annotations

from monitor.store.outbox import MIGRATION as SQL

__all__ = ["SQL"]
