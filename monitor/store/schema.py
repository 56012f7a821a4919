"""The database schema as an ordered list of migrations; ``PRAGMA user_version`` holds how many ran.

Never edit a migration that has shipped: append a new one. Units are in column names.
"""

from __future__ import annotations

import sqlite3

from monitor.alerts.vocabulary import ALERT_CLASSES, ALERT_STATES, SEVERITIES, sql_in
from monitor.errors import SchemaError
from monitor.store.outbox import MIGRATION as _UPLINK_OUTBOX

# 2: sensor calibration certificates (due date for the overdue alert, uncertainty for the model)
_SENSOR_CALIBRATION = """
    ALTER TABLE sensors ADD COLUMN calibration_certificate TEXT;
    ALTER TABLE sensors ADD COLUMN calibration_due_ts REAL;
    ALTER TABLE sensors ADD COLUMN calibration_uncertainty REAL;
"""

# 3: the light at a location, for the model: its lamp type (spectrum factor) and the worst-case lux
# assumed for what the sensor did not see; saturated readings found without a scan
_LOCATION_LIGHT = """
    ALTER TABLE locations ADD COLUMN lamp TEXT;
    ALTER TABLE locations ADD COLUMN worst_case_lux REAL;
    CREATE INDEX light_readings_saturated ON light_readings(sensor_id, ts) WHERE saturated = 1;
"""

# 4: the alert lifecycle. SQLite cannot change a CHECK constraint in place, so alerts and alert_events are
# rebuilt: alerts gain 'pending' (an excursion whose time rule is not met yet: no fired_ts), their class, the
# snapshot of the rule and model constants in force when they fired, escalation and silencing; events
# gain the kinds of the lifecycle. rule_state becomes rule_timers (the pure timer state as JSON). Silences.
_ALERT_LIFECYCLE = f"""
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

# 5: spectral and UV chips' channel counts beside their lux, with the spectrum factor κ_s derived from them
# and three ledgers continued like the lux ledger (trapezoid, nothing across gaps): lux·h where κ_s is
# known, κ_s·lux·h, and near-UV W·h/m² toward the ICH Q1B 200 W·h/m²
_SPECTRAL = """
    CREATE TABLE spectral_readings (
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        ts REAL NOT NULL,
        chip TEXT NOT NULL,
        channels TEXT NOT NULL,
        counts TEXT NOT NULL,
        gain REAL NOT NULL,
        integration_ms REAL NOT NULL,
        saturated INTEGER NOT NULL DEFAULT 0,
        lux REAL NOT NULL,
        kappa REAL,
        near_uv_w_per_m2 REAL,
        cum_spectral_lux_hours REAL NOT NULL,
        cum_kappa_lux_hours REAL NOT NULL,
        cum_near_uv_wh_per_m2 REAL NOT NULL,
        PRIMARY KEY (sensor_id, ts)
    ) WITHOUT ROWID;
    CREATE INDEX spectral_readings_with_kappa ON spectral_readings(sensor_id, ts) WHERE kappa IS NOT NULL;
"""

# 6: readings from serial microcontrollers: every frame stored once, per device boot the clock offset and
# the sequence number acknowledged through (docs/serial-protocol.md)
_SERIAL_FRAMES = """
    CREATE TABLE serial_boots (
        device_id TEXT NOT NULL,
        boot_id TEXT NOT NULL,
        wall_offset_seconds REAL NOT NULL,
        acked_through INTEGER NOT NULL,
        firmware_version TEXT NOT NULL,
        last_seen_ts REAL NOT NULL,
        PRIMARY KEY (device_id, boot_id)
    ) WITHOUT ROWID;
    CREATE TABLE serial_frames (
        device_id TEXT NOT NULL,
        boot_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        ts REAL NOT NULL,
        PRIMARY KEY (device_id, boot_id, seq)
    ) WITHOUT ROWID;
"""

# 7: API tokens: only a SHA-256 digest of each token is kept (tokens are 256 random bits, so a plain digest
# cannot be searched backwards; a slow hash would only slow every request). token_id is the public part of
# the token, looked up by index before the digest is compared in constant time. One live token per name.
_API_TOKENS = """
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        token_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
        sha256 TEXT NOT NULL,
        created_ts REAL NOT NULL,
        revoked_ts REAL
    );
    CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens(name) WHERE revoked_ts IS NULL;
"""

# 8: the audit trail. Each row's hash covers the previous row's hash and the row's own fields, so an edited
# row breaks the chain from there on; AUTOINCREMENT never reuses an id, so a deleted row leaves a gap (or,
# for the last row, sqlite_sequence ahead of the last id). detail is canonical JSON.
_AUDIT_LOG = """
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
"""

# 9: webhooks. A trigger copies every alert change (a new seq on an alert row) into the outbox in the same
# transaction as the change, so no change can be committed without its message: the transactional outbox.
# It copies only while an endpoint is configured, so a site without webhooks keeps no outbox. Each endpoint
# keeps how far it has been delivered and when to try next. An infinite value (a silent sensor's) is written
# as null, as the API writes it: JSON has no infinity. A later migration that rebuilds the alerts table must
# create this trigger again: dropping a table drops its triggers.
_WEBHOOK_OUTBOX = """
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

# 10: durability: each bridge run (a run without stopped_ts ended uncleanly), system events (clock jumps,
# outages, disk and database trouble) that belong to no sensor, and one-minute aggregates of old readings
_DURABILITY = """
    CREATE TABLE bridge_runs (
        id INTEGER PRIMARY KEY,
        pid INTEGER NOT NULL,
        started_ts REAL NOT NULL,
        stopped_ts REAL
    );
    CREATE TABLE system_events (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    -- Readings past the retention period, one row per sensor and minute (monitor/store/retention.py):
    -- cum_end is the ledger at the minute's last reading as stored, dose its increment since the row before.
    CREATE TABLE minute_aggregates (
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        minute_ts REAL NOT NULL,
        readings INTEGER NOT NULL,
        min_value REAL NOT NULL,
        mean_value REAL NOT NULL,
        max_value REAL NOT NULL,
        saturated INTEGER NOT NULL,
        saturated_sum REAL NOT NULL,
        first_ts REAL NOT NULL,
        last_ts REAL NOT NULL,
        last_value REAL NOT NULL,
        cum_end REAL NOT NULL,
        dose REAL NOT NULL,
        PRIMARY KEY (sensor_id, minute_ts)
    ) WITHOUT ROWID;
"""

# 11: the bridge's commit window in its heartbeat, so a reader tells readings not yet committed from a silence
_HEARTBEAT_LAG = """
    ALTER TABLE heartbeat ADD COLUMN report_lag_seconds REAL NOT NULL DEFAULT 0;
"""

# 12: serial input refused, by port and kind, so an integrator sees a noisy cable without the bridge's log
_SERIAL_REJECTS = """
    CREATE TABLE serial_rejects (
        port TEXT NOT NULL,  -- the port's pyserial URL, as configured
        kind TEXT NOT NULL,  -- noise, truncated, checksum, overlong, version, malformed, before-hello, ...
        count INTEGER NOT NULL,
        first_ts REAL NOT NULL,  -- the commit that first counted one, and the latest
        last_ts REAL NOT NULL,
        PRIMARY KEY (port, kind)
    ) WITHOUT ROWID;
"""

# 13: API tokens may expire (real time, also in simulation: a token is a credential, not a reading)
_TOKEN_EXPIRY = """
    ALTER TABLE api_tokens ADD COLUMN expires_ts REAL;
"""

# 14: each light sensor's highest lux per clock hour, kept at ingest (monitor/store/readings.py): the bound on
# light a sensor did not see (monitor/data_bounds.py) reads a day's hours instead of a month of readings
_LIGHT_HOUR_MAXIMA = """
    CREATE TABLE light_hour_maxima (
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        hour_ts REAL NOT NULL,
        max_lux REAL NOT NULL,
        PRIMARY KEY (sensor_id, hour_ts)
    ) WITHOUT ROWID;
    INSERT INTO light_hour_maxima (sensor_id, hour_ts, max_lux)
        SELECT sensor_id, hour_ts, MAX(lux) FROM (
            SELECT sensor_id, CAST(ts / 3600 AS INTEGER) * 3600.0 AS hour_ts, lux FROM light_readings
            UNION ALL
            SELECT m.sensor_id, CAST(m.minute_ts / 3600 AS INTEGER) * 3600.0, m.max_value
            FROM minute_aggregates m JOIN sensors s ON s.id = m.sensor_id WHERE s.quantity = 'light'
        ) GROUP BY sensor_id, hour_ts;
"""

# 15: one clock: the simulated clock a running simulation stamps with, for every other process that writes
# (the command line's vial events, tokens); and the real clock's high-water mark, so that token expiry
# never runs backwards with a wall clock stepped back
_CLOCKS = """
    CREATE TABLE simulated_clock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        speed REAL NOT NULL CHECK (speed > 0),
        sim_origin_ts REAL NOT NULL,
        real_origin_monotonic REAL NOT NULL,
        boot_id TEXT NOT NULL,
        pid INTEGER NOT NULL
    );
    CREATE TABLE real_clock_high_water (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        real_ts REAL NOT NULL
    );
"""

MIGRATIONS: tuple[str, ...] = (
    # 1: the walking skeleton
    """
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
    """,
    _SENSOR_CALIBRATION,
    _LOCATION_LIGHT,
    _ALERT_LIFECYCLE,
    _SPECTRAL,
    _SERIAL_FRAMES,
    _API_TOKENS,
    _AUDIT_LOG,
    _WEBHOOK_OUTBOX,
    _DURABILITY,
    _HEARTBEAT_LAG,
    _SERIAL_REJECTS,
    _TOKEN_EXPIRY,
    _LIGHT_HOUR_MAXIMA,
    _CLOCKS,
    _UPLINK_OUTBOX,  # 16: the fleet uplink's outbox (monitor/store/outbox.py)
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; returns the version found before."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise SchemaError(
            f"database schema version {found} is newer than this vialguard understands ({SCHEMA_VERSION})"
        )
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise SchemaError(f"migration to schema version {version + 1} failed: {exc}") from exc
    return found


def _statements(script: str) -> list[str]:
    """Split a migration into statements, so it runs inside one explicit transaction."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
