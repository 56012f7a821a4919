"""20: vials that move between sites. A vial handed over to another site keeps its history here with the
status 'handed-over'; ``vial_handovers`` holds each hand-over document sent ('out') or received ('in'),
whose state the potency model goes on from at the receiving site (:mod:`monitor.handover`); a trigger
queues each for the fleet uplink (kind ``vial-handover``), so central holds every document.

SQLite cannot change a CHECK constraint in place, so ``vials`` is rebuilt. Its rows are referenced by
``vial_events`` and ``alerts``, and triggers name it: the runner turns foreign keys off around this
migration and renames without rewriting the triggers (``FOREIGN_KEYS_OFF``), as SQLite's own procedure for
a table change does, and checks every foreign key before it commits. Dropping the old table drops its
triggers: migration 18's, which queue each vial for central, are created again on the new one.
"""

from __future__ import annotations

from monitor.store.config_mirror import VIAL_TRIGGERS
from monitor.store.outbox import HANDOVER_TRIGGER

FOREIGN_KEYS_OFF = True

SQL = (
    """
    CREATE TABLE vials_new (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        drug TEXT NOT NULL,
        form TEXT NOT NULL,
        lot TEXT NOT NULL,
        expiry TEXT,
        initial_potency_percent REAL NOT NULL,
        registered_ts REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'active'
            CHECK (status IN ('active', 'administered', 'discarded', 'handed-over'))
    );
    INSERT INTO vials_new (id, key, drug, form, lot, expiry, initial_potency_percent, registered_ts, status)
        SELECT id, key, drug, form, lot, expiry, initial_potency_percent, registered_ts, status FROM vials;
    DROP TABLE vials;
    ALTER TABLE vials_new RENAME TO vials;
    """
    + VIAL_TRIGGERS
    + """
    CREATE TABLE vial_handovers (
        id INTEGER PRIMARY KEY,
        vial_id INTEGER NOT NULL REFERENCES vials(id),
        event_id INTEGER NOT NULL UNIQUE REFERENCES vial_events(id),
        direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
        ts REAL NOT NULL,  -- the hand-over's true time
        peer_site TEXT NOT NULL,  -- 'out': the site it went to; 'in': the site it came from
        document TEXT NOT NULL,  -- the hand-over document as sent or received, JSON with its checksum
        checksum TEXT NOT NULL
    );
    CREATE INDEX vial_handovers_by_vial ON vial_handovers(vial_id, ts);
    """
    + HANDOVER_TRIGGER
)
