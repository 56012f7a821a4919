"""9: webhooks. A trigger copies every alert change (a new seq on an alert row) into the outbox in the same
transaction as the change, so no change can be committed without its message: the transactional outbox.
It copies only while an endpoint is configured, so a site without webhooks keeps no outbox. Each endpoint
keeps how far it has been delivered and when to try next. An infinite value (a silent sensor's) is written
as null, as the API writes it: JSON has no infinity. A later migration that rebuilds the alerts table must
create this trigger again: dropping a table drops its triggers.
"""

from __future__ import annotations

SQL = """
    CREATE TABLE webhook_endpoints (
        url TEXT PRIMARY KEY,
        delivered_seq INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ts REAL NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        delivered_ts REAL
    );
    CREATE TABLE webhook_outbox (
        seq INTEGER PRIMARY KEY,
        alert_id INTEGER NOT NULL,
        event_kind TEXT NOT NULL,
        event_ts REAL NOT NULL,
        event_detail TEXT NOT NULL,
        alert TEXT NOT NULL
    );
    CREATE TRIGGER alert_change_to_outbox AFTER UPDATE OF seq ON alerts
    WHEN NEW.seq > OLD.seq AND EXISTS (SELECT 1 FROM webhook_endpoints)
    BEGIN
        INSERT OR IGNORE INTO webhook_outbox (seq, alert_id, event_kind, event_ts, event_detail, alert)
        SELECT NEW.seq, NEW.id, e.kind, e.ts, e.detail, json_object(
            'id', NEW.id, 'fingerprint', NEW.fingerprint, 'rule', NEW.rule, 'severity', NEW.severity,
            'state', NEW.state, 'alert_class', NEW.alert_class,
            'location', (SELECT key FROM locations WHERE id = NEW.location_id),
            'vial', (SELECT key FROM vials WHERE id = NEW.vial_id),
            'sensor', (SELECT key FROM sensors WHERE id = NEW.sensor_id),
            'started_ts', NEW.started_ts, 'fired_ts', NEW.fired_ts, 'ended_ts', NEW.ended_ts,
            'value', CASE WHEN abs(NEW.value) < 9e999 THEN NEW.value END,
            'worst_value', CASE WHEN abs(NEW.worst_value) < 9e999 THEN NEW.worst_value END,
            'message', NEW.message,
            'acknowledged_by', NEW.ack_by, 'acknowledgement_comment', NEW.ack_comment,
            'ack_ts', NEW.ack_ts, 'escalated_ts', NEW.escalated_ts, 'silence_id', NEW.silence_id)
        FROM alert_events AS e WHERE e.seq = NEW.seq;
    END;
"""
