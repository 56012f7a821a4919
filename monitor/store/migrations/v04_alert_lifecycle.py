"""4: the alert lifecycle. SQLite cannot change a CHECK constraint in place, so alerts and alert_events are
rebuilt: alerts gain 'pending' (an excursion whose time rule is not met yet: no fired_ts), their class, the
snapshot of the rule and model constants in force when they fired, escalation and silencing; events
gain the kinds of the lifecycle. rule_state becomes rule_timers (the pure timer state as JSON). Silences.
"""

from __future__ import annotations

from monitor.alerts.vocabulary import ALERT_CLASSES, ALERT_STATES, SEVERITIES, sql_in

SQL = f"""
    CREATE TABLE alerts_new (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN {sql_in(SEVERITIES)}),
        state TEXT NOT NULL CHECK (state IN {sql_in(ALERT_STATES)}),
        location_id INTEGER REFERENCES locations(id),
        vial_id INTEGER REFERENCES vials(id),
        sensor_id INTEGER REFERENCES sensors(id),
        started_ts REAL NOT NULL,
        fired_ts REAL,
        ended_ts REAL,
        value REAL,
        worst_value REAL,
        message TEXT NOT NULL,
        ack_by TEXT,
        ack_comment TEXT,
        ack_ts REAL,
        seq INTEGER NOT NULL,
        alert_class TEXT NOT NULL DEFAULT 'data' CHECK (alert_class IN {sql_in(ALERT_CLASSES)}),
        snapshot TEXT NOT NULL DEFAULT '{{}}',
        escalated_ts REAL,
        silence_id INTEGER
    );
    INSERT INTO alerts_new (id, fingerprint, rule, severity, state, location_id, vial_id, sensor_id,
        started_ts, fired_ts, ended_ts, value, worst_value, message, ack_by, ack_comment, ack_ts, seq,
        alert_class)
        SELECT id, fingerprint, rule, severity, state, location_id, vial_id, sensor_id, started_ts, fired_ts,
            ended_ts, value, worst_value, message, ack_by, ack_comment, ack_ts, seq,
            CASE WHEN rule IN ('sensor-stale', 'sensor-fault', 'calibration-overdue') THEN 'sensor-trust'
                ELSE 'data' END
        FROM alerts;
    CREATE TABLE alert_events_new (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id INTEGER NOT NULL REFERENCES alerts_new(id),
        ts REAL NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('pending', 'fired', 'updated', 'acknowledged', 'escalated',
            'withdrawn', 'resolved', 'silenced', 'unsilenced')),
        detail TEXT NOT NULL DEFAULT ''
    );
    INSERT INTO alert_events_new (seq, alert_id, ts, kind, detail)
        SELECT seq, alert_id, ts, kind, detail FROM alert_events;
    DROP TABLE alert_events;
    DROP TABLE alerts;
    ALTER TABLE alerts_new RENAME TO alerts;
    ALTER TABLE alert_events_new RENAME TO alert_events;
    CREATE UNIQUE INDEX alerts_one_open_per_fingerprint ON alerts(fingerprint) WHERE state != 'resolved';
    CREATE INDEX alerts_by_seq ON alerts(seq);
    CREATE INDEX alerts_resolved_by_end ON alerts(ended_ts) WHERE state = 'resolved';
    CREATE INDEX alert_events_by_alert ON alert_events(alert_id, seq);
    CREATE TABLE rule_timers (
        fingerprint TEXT PRIMARY KEY,
        timer TEXT NOT NULL
    );
    INSERT INTO rule_timers (fingerprint, timer)
        SELECT fingerprint, json_object('since', condition_since) FROM rule_state;
    DROP TABLE rule_state;
    -- matchers: a JSON object of label -> exact value, all of which must match.
    CREATE TABLE silences (
        id INTEGER PRIMARY KEY,
        matchers TEXT NOT NULL,
        starts_ts REAL NOT NULL,
        ends_ts REAL NOT NULL,
        created_by TEXT NOT NULL,
        comment TEXT NOT NULL,
        created_ts REAL NOT NULL,
        expired_by TEXT,
        expired_ts REAL,
        CHECK (ends_ts >= starts_ts)
    );
"""
