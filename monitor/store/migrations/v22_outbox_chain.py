"""22: the uplink proves that the rows central holds are this database's own. ``uplink_state`` keeps the
running digest of the outbox at the acknowledged point (``acked_digest``, :mod:`monitor.store.outbox_chain`),
and the epoch's parent and the reason a new epoch was drawn, which the uplink reports to central.

A database that already uplinks starts its chain here: the digest at its acknowledged point is the empty
anchor, and every row numbered after it is chained from that anchor. Central holds no digest for the rows
it committed before (its migration 5 leaves them null), so the first check is at the next acknowledgement.
"""

from __future__ import annotations

SQL = """
ALTER TABLE uplink_state ADD COLUMN acked_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE uplink_state ADD COLUMN parent_epoch TEXT;
ALTER TABLE uplink_state ADD COLUMN epoch_reason TEXT;
"""
