"""1: the walking skeleton"""

from __future__ import annotations

SQL = """
    CREATE TABLE locations (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL
    );
    CREATE TABLE sensors (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        location_id INTEGER NOT NULL REFERENCES locations(id),
        quantity TEXT NOT NULL CHECK (quantity IN ('light', 'temperature')),
        driver TEXT NOT NULL,
        interval_seconds REAL NOT NULL,
        max_gap_seconds REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'unknown',
        status_detail TEXT NOT NULL DEFAULT '',
        status_since REAL
    );
    -- cum_lux_hours: the location ledger of light dose, trapezoid between samples, nothing across gaps.
    CREATE TABLE light_readings (
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        ts REAL NOT NULL,
        lux REAL NOT NULL,
        saturated INTEGER NOT NULL DEFAULT 0,
        raw_counts TEXT,
        gain REAL,
        integration_ms REAL,
        cum_lux_hours REAL NOT NULL,
        PRIMARY KEY (sensor_id, ts)
    ) WITHOUT ROWID;
    -- cum_equivalent_hours: ∫ exp(−(ΔH/R)(1/T − 1/298.15 K)) dt with ΔH/R of USP MKT, in hours.
    CREATE TABLE temperature_readings (
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        ts REAL NOT NULL,
        celsius REAL NOT NULL,
        relative_humidity_percent REAL,
        cum_equivalent_hours REAL NOT NULL,
        PRIMARY KEY (sensor_id, ts)
    ) WITHOUT ROWID;
    CREATE TABLE gaps (
        id INTEGER PRIMARY KEY,
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        start_ts REAL NOT NULL,
        end_ts REAL NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX gaps_by_sensor ON gaps(sensor_id, start_ts);
    CREATE TABLE sensor_faults (
        id INTEGER PRIMARY KEY,
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        ts REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE TABLE vials (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        drug TEXT NOT NULL,
        form TEXT NOT NULL,
        lot TEXT NOT NULL,
        expiry TEXT,
        initial_potency_percent REAL NOT NULL,
        registered_ts REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'administered', 'discarded'))
    );
    CREATE TABLE vial_events (
        id INTEGER PRIMARY KEY,
        vial_id INTEGER NOT NULL REFERENCES vials(id),
        ts REAL NOT NULL,
        kind TEXT NOT NULL,
        location_id INTEGER REFERENCES locations(id),
        packaging TEXT,
        detail TEXT NOT NULL DEFAULT '',
        recorded_ts REAL NOT NULL
    );
    CREATE INDEX vial_events_by_vial ON vial_events(vial_id, ts);
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
        location_id INTEGER REFERENCES locations(id),
        vial_id INTEGER REFERENCES vials(id),
        sensor_id INTEGER REFERENCES sensors(id),
        started_ts REAL NOT NULL,
        fired_ts REAL NOT NULL,
        ended_ts REAL,
        value REAL,
        worst_value REAL,
        message TEXT NOT NULL,
        ack_by TEXT,
        ack_comment TEXT,
        ack_ts REAL,
        seq INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX alerts_one_open_per_fingerprint ON alerts(fingerprint) WHERE state != 'resolved';
    CREATE INDEX alerts_by_seq ON alerts(seq);
    -- Every change to an alert appends here; seq is the one monotonic change sequence pollers follow.
    CREATE TABLE alert_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id INTEGER NOT NULL REFERENCES alerts(id),
        ts REAL NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('fired', 'updated', 'acknowledged', 'resolved')),
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX alert_events_by_alert ON alert_events(alert_id, seq);
    -- Rules with a hold time remember since when their condition has held.
    CREATE TABLE rule_state (
        fingerprint TEXT PRIMARY KEY,
        condition_since REAL NOT NULL
    );
    CREATE TABLE heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pid INTEGER NOT NULL,
        real_ts REAL NOT NULL,
        sim_ts REAL NOT NULL,
        readings_total INTEGER NOT NULL
    );
    """
