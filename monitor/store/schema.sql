-- The schema of a freshly migrated vialguard database. Generated: do not edit; after adding a
-- migration (monitor/store/migrations/), run `python -m monitor.store.schema_sql`.
PRAGMA user_version = 23;

CREATE TABLE "alert_events" (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id INTEGER NOT NULL REFERENCES "alerts"(id),
        ts REAL NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('pending', 'fired', 'updated', 'acknowledged', 'escalated',
            'withdrawn', 'resolved', 'silenced', 'unsilenced')),
        detail TEXT NOT NULL DEFAULT ''
    );

CREATE INDEX alert_events_by_alert ON alert_events(alert_id, seq);

CREATE TABLE "alerts" (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'acknowledged', 'resolved')),
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
        alert_class TEXT NOT NULL DEFAULT 'data' CHECK (alert_class IN ('data', 'sensor-trust', 'system')),
        snapshot TEXT NOT NULL DEFAULT '{}',
        escalated_ts REAL,
        silence_id INTEGER
    );

CREATE INDEX alerts_by_seq ON alerts(seq);

CREATE UNIQUE INDEX alerts_one_open_per_fingerprint ON alerts(fingerprint) WHERE state != 'resolved';

CREATE INDEX alerts_resolved_by_end ON alerts(ended_ts) WHERE state = 'resolved';

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
            'started_ts', CASE WHEN NEW.started_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.started_ts)) END, 'fired_ts', CASE WHEN NEW.fired_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.fired_ts)) END,
            'ended_ts', CASE WHEN NEW.ended_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.ended_ts)) END,
            'value', CASE WHEN abs(NEW.value) < 9e999 THEN CASE WHEN NEW.value IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.value)) END END,
            'worst_value', CASE WHEN abs(NEW.worst_value) < 9e999 THEN CASE WHEN NEW.worst_value IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.worst_value)) END END,
            'message', NEW.message,
            'acknowledged_by', NEW.ack_by, 'acknowledgement_comment', NEW.ack_comment,
            'ack_ts', CASE WHEN NEW.ack_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.ack_ts)) END, 'escalated_ts', CASE WHEN NEW.escalated_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.escalated_ts)) END,
            'silence_id', NEW.silence_id)
        FROM alert_events AS e WHERE e.seq = NEW.seq;
    END;

CREATE TRIGGER alert_change_to_uplink AFTER UPDATE OF seq ON alerts WHEN NEW.seq > OLD.seq AND EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('alert', (SELECT json_object('event_seq', e.seq, 'event_kind', e.kind, 'event_ts', CASE WHEN e.ts IS NULL THEN NULL ELSE json(printf('%!.17g', e.ts)) END, 'event_detail', e.detail, 'id', NEW.id, 'fingerprint', NEW.fingerprint, 'rule', NEW.rule, 'severity', NEW.severity, 'state', NEW.state, 'alert_class', NEW.alert_class, 'location', (SELECT key FROM locations WHERE id = NEW.location_id), 'vial', (SELECT key FROM vials WHERE id = NEW.vial_id), 'sensor', (SELECT key FROM sensors WHERE id = NEW.sensor_id), 'started_ts', CASE WHEN NEW.started_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.started_ts)) END, 'fired_ts', CASE WHEN NEW.fired_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.fired_ts)) END, 'ended_ts', CASE WHEN NEW.ended_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.ended_ts)) END, 'value', CASE WHEN abs(NEW.value) < 9e999 THEN CASE WHEN NEW.value IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.value)) END END, 'worst_value', CASE WHEN abs(NEW.worst_value) < 9e999 THEN CASE WHEN NEW.worst_value IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.worst_value)) END END, 'message', NEW.message, 'acknowledged_by', NEW.ack_by, 'acknowledgement_comment', NEW.ack_comment, 'ack_ts', CASE WHEN NEW.ack_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.ack_ts)) END, 'escalated_ts', CASE WHEN NEW.escalated_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.escalated_ts)) END, 'silence_id', NEW.silence_id) FROM alert_events AS e WHERE e.seq = NEW.seq), ((julianday('now') - 2440587.5) * 86400.0));
    END;

CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        token_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
        sha256 TEXT NOT NULL,
        created_ts REAL NOT NULL,
        revoked_ts REAL
    , expires_ts REAL);

CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens(name) WHERE revoked_ts IS NULL;

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

CREATE TRIGGER audit_row_to_uplink AFTER INSERT ON audit_log WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('audit', json_object('id', NEW.id, 'ts', CASE WHEN NEW.ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.ts)) END, 'actor', NEW.actor, 'action', NEW.action, 'subject', NEW.subject, 'detail', NEW.detail, 'prev_hash', NEW.prev_hash, 'hash', NEW.hash), ((julianday('now') - 2440587.5) * 86400.0));
    END;

CREATE TABLE bridge_runs (
        id INTEGER PRIMARY KEY,
        pid INTEGER NOT NULL,
        started_ts REAL NOT NULL,
        stopped_ts REAL
    );

CREATE TABLE fleet_commands (
        command_id TEXT PRIMARY KEY,  -- central's id: the key a duplicate delivery is found by
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,  -- central's operator, as the site's audit trail names them
        outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'refused')),
        result TEXT NOT NULL,  -- the result message as first sent (JSON)
        handled_ts REAL NOT NULL  -- the site's clock when it applied or refused the command
    );

CREATE TABLE gaps (
        id INTEGER PRIMARY KEY,
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        start_ts REAL NOT NULL,
        end_ts REAL NOT NULL,
        reason TEXT NOT NULL
    );

CREATE INDEX gaps_by_sensor ON gaps(sensor_id, start_ts);

CREATE TRIGGER gap_removal_to_uplink AFTER DELETE ON gaps WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('gap-removed', json_object('id', OLD.id), ((julianday('now') - 2440587.5) * 86400.0));
    END;

CREATE TRIGGER gap_to_uplink AFTER INSERT ON gaps WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('gap', json_object('id', NEW.id, 'sensor', (SELECT key FROM sensors WHERE id = NEW.sensor_id), 'start_ts', CASE WHEN NEW.start_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.start_ts)) END, 'end_ts', CASE WHEN NEW.end_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.end_ts)) END, 'reason', NEW.reason), ((julianday('now') - 2440587.5) * 86400.0));
    END;

CREATE TABLE heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pid INTEGER NOT NULL,
        real_ts REAL NOT NULL,
        sim_ts REAL NOT NULL,
        readings_total INTEGER NOT NULL
    , report_lag_seconds REAL NOT NULL DEFAULT 0);

CREATE TRIGGER report_lag_change_to_uplink AFTER UPDATE OF report_lag_seconds ON heartbeat WHEN NEW.report_lag_seconds IS NOT OLD.report_lag_seconds AND EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts)
        SELECT 'site-setting', json_object('report_lag_seconds', CASE WHEN coalesce((SELECT report_lag_seconds FROM heartbeat WHERE id = 1), 0.0) IS NULL THEN NULL ELSE json(printf('%!.17g', coalesce((SELECT report_lag_seconds FROM heartbeat WHERE id = 1), 0.0))) END, 'potency_warning_percent', CASE WHEN m.potency_warning_percent IS NULL THEN NULL ELSE json(printf('%!.17g', m.potency_warning_percent)) END, 'potency_critical_percent', CASE WHEN m.potency_critical_percent IS NULL THEN NULL ELSE json(printf('%!.17g', m.potency_critical_percent)) END, 'drug_profiles_sha256', m.drug_profiles_sha256, 'vialguard_version', m.vialguard_version, 'rule_limits', json(m.rule_limits)), ((julianday('now') - 2440587.5) * 86400.0) FROM (SELECT 1) LEFT JOIN site_model_settings AS m ON m.id = 1;
    END;

CREATE TRIGGER report_lag_to_uplink AFTER INSERT ON heartbeat WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts)
        SELECT 'site-setting', json_object('report_lag_seconds', CASE WHEN coalesce((SELECT report_lag_seconds FROM heartbeat WHERE id = 1), 0.0) IS NULL THEN NULL ELSE json(printf('%!.17g', coalesce((SELECT report_lag_seconds FROM heartbeat WHERE id = 1), 0.0))) END, 'potency_warning_percent', CASE WHEN m.potency_warning_percent IS NULL THEN NULL ELSE json(printf('%!.17g', m.potency_warning_percent)) END, 'potency_critical_percent', CASE WHEN m.potency_critical_percent IS NULL THEN NULL ELSE json(printf('%!.17g', m.potency_critical_percent)) END, 'drug_profiles_sha256', m.drug_profiles_sha256, 'vialguard_version', m.vialguard_version, 'rule_limits', json(m.rule_limits)), ((julianday('now') - 2440587.5) * 86400.0) FROM (SELECT 1) LEFT JOIN site_model_settings AS m ON m.id = 1;
    END;

CREATE TABLE light_hour_maxima (
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        hour_ts REAL NOT NULL,
        max_lux REAL NOT NULL,
        PRIMARY KEY (sensor_id, hour_ts)
    ) WITHOUT ROWID;

CREATE INDEX light_hour_maxima_by_lux ON light_hour_maxima(sensor_id, max_lux);

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

CREATE INDEX light_readings_saturated ON light_readings(sensor_id, ts) WHERE saturated = 1;

CREATE TRIGGER light_reading_to_uplink AFTER INSERT ON light_readings WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, sensor_id, ts, queued_ts)
        VALUES ('light', NEW.sensor_id, NEW.ts, ((julianday('now') - 2440587.5) * 86400.0));
    END;

CREATE TABLE locations (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL
    , lamp TEXT, worst_case_lux REAL);

CREATE TRIGGER location_change_to_uplink AFTER UPDATE ON locations WHEN (NEW.key IS NOT OLD.key OR NEW.name IS NOT OLD.name OR NEW.kind IS NOT OLD.kind OR NEW.lamp IS NOT OLD.lamp OR NEW.worst_case_lux IS NOT OLD.worst_case_lux) AND EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('location', json_object('id', NEW.id, 'key', NEW.key, 'name', NEW.name, 'kind', NEW.kind, 'lamp', NEW.lamp, 'worst_case_lux', CASE WHEN NEW.worst_case_lux IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.worst_case_lux)) END), ((julianday('now') - 2440587.5) * 86400.0));
    END;

CREATE TRIGGER location_to_uplink AFTER INSERT ON locations WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('location', json_object('id', NEW.id, 'key', NEW.key, 'name', NEW.name, 'kind', NEW.kind, 'lamp', NEW.lamp, 'worst_case_lux', CASE WHEN NEW.worst_case_lux IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.worst_case_lux)) END), ((julianday('now') - 2440587.5) * 86400.0));
    END;

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

CREATE INDEX minute_aggregates_saturated ON minute_aggregates(sensor_id, minute_ts) WHERE saturated > 0;

CREATE TABLE real_clock_high_water (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        real_ts REAL NOT NULL
    );

CREATE TABLE rule_timers (
        fingerprint TEXT PRIMARY KEY,
        timer TEXT NOT NULL
    );

CREATE TABLE sensor_faults (
        id INTEGER PRIMARY KEY,
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        ts REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
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
    , calibration_certificate TEXT, calibration_due_ts REAL, calibration_uncertainty REAL);

CREATE TRIGGER sensor_change_to_uplink AFTER UPDATE ON sensors WHEN (NEW.key IS NOT OLD.key OR NEW.location_id IS NOT OLD.location_id OR NEW.quantity IS NOT OLD.quantity OR NEW.driver IS NOT OLD.driver OR NEW.interval_seconds IS NOT OLD.interval_seconds OR NEW.max_gap_seconds IS NOT OLD.max_gap_seconds OR NEW.status IS NOT OLD.status OR NEW.status_detail IS NOT OLD.status_detail OR NEW.status_since IS NOT OLD.status_since OR NEW.calibration_certificate IS NOT OLD.calibration_certificate OR NEW.calibration_due_ts IS NOT OLD.calibration_due_ts OR NEW.calibration_uncertainty IS NOT OLD.calibration_uncertainty) AND EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('sensor', json_object('id', NEW.id, 'key', NEW.key, 'location', (SELECT key FROM locations WHERE id = NEW.location_id), 'quantity', NEW.quantity, 'driver', NEW.driver, 'interval_seconds', CASE WHEN NEW.interval_seconds IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.interval_seconds)) END, 'max_gap_seconds', CASE WHEN NEW.max_gap_seconds IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.max_gap_seconds)) END, 'status', NEW.status, 'status_detail', NEW.status_detail, 'status_since', CASE WHEN NEW.status_since IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.status_since)) END, 'calibration_certificate', NEW.calibration_certificate, 'calibration_due_ts', CASE WHEN NEW.calibration_due_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.calibration_due_ts)) END, 'calibration_uncertainty', CASE WHEN NEW.calibration_uncertainty IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.calibration_uncertainty)) END, 'spectral', json(CASE WHEN EXISTS (SELECT 1 FROM spectral_readings AS x WHERE x.sensor_id = NEW.id AND x.chip IN ('as7341')) THEN 'true' ELSE 'false' END), 'near_uv', json(CASE WHEN EXISTS (SELECT 1 FROM spectral_readings AS x WHERE x.sensor_id = NEW.id AND x.near_uv_w_per_m2 IS NOT NULL) THEN 'true' ELSE 'false' END)), ((julianday('now') - 2440587.5) * 86400.0));
    END;

CREATE TRIGGER sensor_to_uplink AFTER INSERT ON sensors WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('sensor', json_object('id', NEW.id, 'key', NEW.key, 'location', (SELECT key FROM locations WHERE id = NEW.location_id), 'quantity', NEW.quantity, 'driver', NEW.driver, 'interval_seconds', CASE WHEN NEW.interval_seconds IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.interval_seconds)) END, 'max_gap_seconds', CASE WHEN NEW.max_gap_seconds IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.max_gap_seconds)) END, 'status', NEW.status, 'status_detail', NEW.status_detail, 'status_since', CASE WHEN NEW.status_since IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.status_since)) END, 'calibration_certificate', NEW.calibration_certificate, 'calibration_due_ts', CASE WHEN NEW.calibration_due_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.calibration_due_ts)) END, 'calibration_uncertainty', CASE WHEN NEW.calibration_uncertainty IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.calibration_uncertainty)) END, 'spectral', json(CASE WHEN EXISTS (SELECT 1 FROM spectral_readings AS x WHERE x.sensor_id = NEW.id AND x.chip IN ('as7341')) THEN 'true' ELSE 'false' END), 'near_uv', json(CASE WHEN EXISTS (SELECT 1 FROM spectral_readings AS x WHERE x.sensor_id = NEW.id AND x.near_uv_w_per_m2 IS NOT NULL) THEN 'true' ELSE 'false' END)), ((julianday('now') - 2440587.5) * 86400.0));
    END;

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

CREATE TABLE serial_rejects (
        port TEXT NOT NULL,  -- the port's pyserial URL, as configured
        kind TEXT NOT NULL,  -- noise, truncated, checksum, overlong, version, malformed, before-hello, ...
        count INTEGER NOT NULL,
        first_ts REAL NOT NULL,  -- the commit that first counted one, and the latest
        last_ts REAL NOT NULL,
        PRIMARY KEY (port, kind)
    ) WITHOUT ROWID;

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

CREATE TABLE simulated_clock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        speed REAL NOT NULL CHECK (speed > 0),
        sim_origin_ts REAL NOT NULL,
        real_origin_monotonic REAL NOT NULL,
        boot_id TEXT NOT NULL,
        pid INTEGER NOT NULL
    );

CREATE TABLE site_model_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        potency_warning_percent REAL NOT NULL,
        potency_critical_percent REAL NOT NULL,
        drug_profiles_sha256 TEXT,  -- the extra drug profiles file's digest; null: the shipped ones alone
        vialguard_version TEXT NOT NULL
    , rule_limits TEXT);

CREATE TRIGGER site_settings_change_to_uplink AFTER UPDATE ON site_model_settings WHEN (NEW.potency_warning_percent IS NOT OLD.potency_warning_percent OR NEW.potency_critical_percent IS NOT OLD.potency_critical_percent OR NEW.drug_profiles_sha256 IS NOT OLD.drug_profiles_sha256 OR NEW.vialguard_version IS NOT OLD.vialguard_version OR NEW.rule_limits IS NOT OLD.rule_limits) AND EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts)
        SELECT 'site-setting', json_object('report_lag_seconds', CASE WHEN coalesce((SELECT report_lag_seconds FROM heartbeat WHERE id = 1), 0.0) IS NULL THEN NULL ELSE json(printf('%!.17g', coalesce((SELECT report_lag_seconds FROM heartbeat WHERE id = 1), 0.0))) END, 'potency_warning_percent', CASE WHEN m.potency_warning_percent IS NULL THEN NULL ELSE json(printf('%!.17g', m.potency_warning_percent)) END, 'potency_critical_percent', CASE WHEN m.potency_critical_percent IS NULL THEN NULL ELSE json(printf('%!.17g', m.potency_critical_percent)) END, 'drug_profiles_sha256', m.drug_profiles_sha256, 'vialguard_version', m.vialguard_version, 'rule_limits', json(m.rule_limits)), ((julianday('now') - 2440587.5) * 86400.0) FROM (SELECT 1) LEFT JOIN site_model_settings AS m ON m.id = 1;
    END;

CREATE TRIGGER site_settings_to_uplink AFTER INSERT ON site_model_settings WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts)
        SELECT 'site-setting', json_object('report_lag_seconds', CASE WHEN coalesce((SELECT report_lag_seconds FROM heartbeat WHERE id = 1), 0.0) IS NULL THEN NULL ELSE json(printf('%!.17g', coalesce((SELECT report_lag_seconds FROM heartbeat WHERE id = 1), 0.0))) END, 'potency_warning_percent', CASE WHEN m.potency_warning_percent IS NULL THEN NULL ELSE json(printf('%!.17g', m.potency_warning_percent)) END, 'potency_critical_percent', CASE WHEN m.potency_critical_percent IS NULL THEN NULL ELSE json(printf('%!.17g', m.potency_critical_percent)) END, 'drug_profiles_sha256', m.drug_profiles_sha256, 'vialguard_version', m.vialguard_version, 'rule_limits', json(m.rule_limits)), ((julianday('now') - 2440587.5) * 86400.0) FROM (SELECT 1) LEFT JOIN site_model_settings AS m ON m.id = 1;
    END;

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
        cum_near_uv_wh_per_m2 REAL NOT NULL, cum_f1_wh_per_m2_nm REAL NOT NULL DEFAULT 0, cum_f2_wh_per_m2_nm REAL NOT NULL DEFAULT 0, cum_f3_wh_per_m2_nm REAL NOT NULL DEFAULT 0, cum_f4_wh_per_m2_nm REAL NOT NULL DEFAULT 0, cum_f5_wh_per_m2_nm REAL NOT NULL DEFAULT 0, cum_f6_wh_per_m2_nm REAL NOT NULL DEFAULT 0, cum_f7_wh_per_m2_nm REAL NOT NULL DEFAULT 0, cum_f8_wh_per_m2_nm REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (sensor_id, ts)
    ) WITHOUT ROWID;

CREATE INDEX spectral_readings_with_kappa ON spectral_readings(sensor_id, ts) WHERE kappa IS NOT NULL;

CREATE TRIGGER near_uv_sensor_to_uplink AFTER INSERT ON spectral_readings
    WHEN NEW.near_uv_w_per_m2 IS NOT NULL AND EXISTS (SELECT 1 FROM uplink_state) AND NOT EXISTS (SELECT 1 FROM spectral_readings AS x
        WHERE x.sensor_id = NEW.sensor_id AND x.ts <> NEW.ts AND x.near_uv_w_per_m2 IS NOT NULL)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts)
        SELECT 'sensor', json_object('id', s.id, 'key', s.key, 'location', (SELECT key FROM locations WHERE id = s.location_id), 'quantity', s.quantity, 'driver', s.driver, 'interval_seconds', CASE WHEN s.interval_seconds IS NULL THEN NULL ELSE json(printf('%!.17g', s.interval_seconds)) END, 'max_gap_seconds', CASE WHEN s.max_gap_seconds IS NULL THEN NULL ELSE json(printf('%!.17g', s.max_gap_seconds)) END, 'status', s.status, 'status_detail', s.status_detail, 'status_since', CASE WHEN s.status_since IS NULL THEN NULL ELSE json(printf('%!.17g', s.status_since)) END, 'calibration_certificate', s.calibration_certificate, 'calibration_due_ts', CASE WHEN s.calibration_due_ts IS NULL THEN NULL ELSE json(printf('%!.17g', s.calibration_due_ts)) END, 'calibration_uncertainty', CASE WHEN s.calibration_uncertainty IS NULL THEN NULL ELSE json(printf('%!.17g', s.calibration_uncertainty)) END, 'spectral', json(CASE WHEN EXISTS (SELECT 1 FROM spectral_readings AS x WHERE x.sensor_id = s.id AND x.chip IN ('as7341')) THEN 'true' ELSE 'false' END), 'near_uv', json(CASE WHEN EXISTS (SELECT 1 FROM spectral_readings AS x WHERE x.sensor_id = s.id AND x.near_uv_w_per_m2 IS NOT NULL) THEN 'true' ELSE 'false' END)), ((julianday('now') - 2440587.5) * 86400.0) FROM sensors AS s WHERE s.id = NEW.sensor_id;
    END;

CREATE TRIGGER spectral_sensor_to_uplink AFTER INSERT ON spectral_readings
    WHEN NEW.chip IN ('as7341') AND EXISTS (SELECT 1 FROM uplink_state) AND NOT EXISTS (SELECT 1 FROM spectral_readings AS x
        WHERE x.sensor_id = NEW.sensor_id AND x.ts <> NEW.ts AND x.chip IN ('as7341'))
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts)
        SELECT 'sensor', json_object('id', s.id, 'key', s.key, 'location', (SELECT key FROM locations WHERE id = s.location_id), 'quantity', s.quantity, 'driver', s.driver, 'interval_seconds', CASE WHEN s.interval_seconds IS NULL THEN NULL ELSE json(printf('%!.17g', s.interval_seconds)) END, 'max_gap_seconds', CASE WHEN s.max_gap_seconds IS NULL THEN NULL ELSE json(printf('%!.17g', s.max_gap_seconds)) END, 'status', s.status, 'status_detail', s.status_detail, 'status_since', CASE WHEN s.status_since IS NULL THEN NULL ELSE json(printf('%!.17g', s.status_since)) END, 'calibration_certificate', s.calibration_certificate, 'calibration_due_ts', CASE WHEN s.calibration_due_ts IS NULL THEN NULL ELSE json(printf('%!.17g', s.calibration_due_ts)) END, 'calibration_uncertainty', CASE WHEN s.calibration_uncertainty IS NULL THEN NULL ELSE json(printf('%!.17g', s.calibration_uncertainty)) END, 'spectral', json(CASE WHEN EXISTS (SELECT 1 FROM spectral_readings AS x WHERE x.sensor_id = s.id AND x.chip IN ('as7341')) THEN 'true' ELSE 'false' END), 'near_uv', json(CASE WHEN EXISTS (SELECT 1 FROM spectral_readings AS x WHERE x.sensor_id = s.id AND x.near_uv_w_per_m2 IS NOT NULL) THEN 'true' ELSE 'false' END)), ((julianday('now') - 2440587.5) * 86400.0) FROM sensors AS s WHERE s.id = NEW.sensor_id;
    END;

CREATE TABLE system_events (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
    );

CREATE TABLE temperature_readings (
        sensor_id INTEGER NOT NULL REFERENCES sensors(id),
        ts REAL NOT NULL,
        celsius REAL NOT NULL,
        relative_humidity_percent REAL,
        cum_equivalent_hours REAL NOT NULL,
        PRIMARY KEY (sensor_id, ts)
    ) WITHOUT ROWID;

CREATE TRIGGER temperature_reading_to_uplink AFTER INSERT ON temperature_readings WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, sensor_id, ts, queued_ts)
        VALUES ('temperature', NEW.sensor_id, NEW.ts, ((julianday('now') - 2440587.5) * 86400.0));
    END;

CREATE TABLE uplink_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        sensor_id INTEGER,
        ts REAL,
        body TEXT,
        queued_ts REAL NOT NULL
    );

CREATE TABLE uplink_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        site TEXT NOT NULL,
        epoch TEXT,  -- null: draw a new one before sending (a database restored from a backup)
        epoch_base_seq INTEGER NOT NULL,  -- the last seq numbered before this epoch began
        acked_seq INTEGER NOT NULL,  -- central's cumulative acknowledgement, in this epoch
        acked_ts REAL  -- real time of the last advance
    , acked_digest TEXT NOT NULL DEFAULT '', parent_epoch TEXT, epoch_reason TEXT);

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

CREATE TRIGGER vial_event_to_uplink AFTER INSERT ON vial_events WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('vial-event', (SELECT json_object('id', NEW.id, 'vial', v.key, 'drug', v.drug, 'form', v.form, 'lot', v.lot, 'expiry', v.expiry, 'initial_potency_percent', CASE WHEN v.initial_potency_percent IS NULL THEN NULL ELSE json(printf('%!.17g', v.initial_potency_percent)) END, 'ts', CASE WHEN NEW.ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.ts)) END, 'kind', NEW.kind, 'location', (SELECT key FROM locations WHERE id = NEW.location_id), 'packaging', NEW.packaging, 'detail', NEW.detail, 'recorded_ts', CASE WHEN NEW.recorded_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.recorded_ts)) END) FROM vials AS v WHERE v.id = NEW.vial_id), ((julianday('now') - 2440587.5) * 86400.0));
    END;

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

CREATE TRIGGER vial_handover_to_uplink AFTER INSERT ON vial_handovers WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('vial-handover', json_object('id', NEW.id, 'vial', (SELECT key FROM vials WHERE id = NEW.vial_id), 'event_id', NEW.event_id, 'direction', NEW.direction, 'ts', CASE WHEN NEW.ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.ts)) END, 'peer_site', NEW.peer_site, 'checksum', NEW.checksum, 'document', json(NEW.document)), ((julianday('now') - 2440587.5) * 86400.0));
    END;

CREATE TABLE "vials" (
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

CREATE TRIGGER vial_change_to_uplink AFTER UPDATE ON vials WHEN (NEW.key IS NOT OLD.key OR NEW.drug IS NOT OLD.drug OR NEW.form IS NOT OLD.form OR NEW.lot IS NOT OLD.lot OR NEW.expiry IS NOT OLD.expiry OR NEW.initial_potency_percent IS NOT OLD.initial_potency_percent OR NEW.registered_ts IS NOT OLD.registered_ts OR NEW.status IS NOT OLD.status) AND EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('vial', json_object('id', NEW.id, 'key', NEW.key, 'drug', NEW.drug, 'form', NEW.form, 'lot', NEW.lot, 'expiry', NEW.expiry, 'initial_potency_percent', CASE WHEN NEW.initial_potency_percent IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.initial_potency_percent)) END, 'registered_ts', CASE WHEN NEW.registered_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.registered_ts)) END, 'status', NEW.status), ((julianday('now') - 2440587.5) * 86400.0));
    END;

CREATE TRIGGER vial_to_uplink AFTER INSERT ON vials WHEN EXISTS (SELECT 1 FROM uplink_state)
    BEGIN
        INSERT INTO uplink_outbox (kind, body, queued_ts) VALUES ('vial', json_object('id', NEW.id, 'key', NEW.key, 'drug', NEW.drug, 'form', NEW.form, 'lot', NEW.lot, 'expiry', NEW.expiry, 'initial_potency_percent', CASE WHEN NEW.initial_potency_percent IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.initial_potency_percent)) END, 'registered_ts', CASE WHEN NEW.registered_ts IS NULL THEN NULL ELSE json(printf('%!.17g', NEW.registered_ts)) END, 'status', NEW.status), ((julianday('now') - 2440587.5) * 86400.0));
    END;

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
