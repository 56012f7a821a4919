"""Central's PostgreSQL schema as ordered migrations; ``central_schema.version`` holds how many ran.

Never edit a migration that has shipped: append one. Readings are partitioned by the site's time, one
partition a month (created as rows arrive, :mod:`fleet.central.partitions`), so retention drops whole
partitions. Timestamps are ``timestamptz``; durations carry their unit in the name.
"""

from __future__ import annotations

import psycopg

from fleet.errors import CentralSchemaError
from monitor.alerts.vocabulary import ALERT_STATES, sql_in
from monitor.model.quantities import QUANTITIES
from monitor.store.vials import VIAL_STATUSES

MIGRATIONS: tuple[str, ...] = (
    # 1: sites and their acknowledged points, readings, every other row verbatim, the fleet's alert feed
    """
    CREATE TABLE sites (
        site text PRIMARY KEY,
        epoch text,  -- the epoch of the site's last batch
        first_seen_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,  -- central's clock when the last batch arrived
        last_sent_at timestamptz,  -- the site's clock when it sent that batch
        clock_skew_seconds double precision,  -- central's receive time minus the site's send time
        numbered_through bigint NOT NULL DEFAULT 0,  -- the last number the site had given, in its epoch
        backlog_oldest_queued_at timestamptz,  -- the site's clock when its oldest waiting row queued
        readings bigint NOT NULL DEFAULT 0,  -- readings stored here, counted in the inserting transaction
        online boolean NOT NULL DEFAULT false,  -- the uplink's status topic (its last will says offline)
        online_changed_at timestamptz
    );
    -- The cumulative acknowledgement: every row of the epoch through acked_seq is committed here.
    CREATE TABLE site_epochs (
        site text NOT NULL REFERENCES sites(site),
        epoch text NOT NULL,
        base_seq bigint NOT NULL,
        acked_seq bigint NOT NULL,
        acked_at timestamptz NOT NULL,
        PRIMARY KEY (site, epoch)
    );
    -- The natural key (site, sensor, time) is the primary key: a row sent twice is stored once.
    CREATE TABLE light_readings (
        site text NOT NULL,
        sensor text NOT NULL,
        ts timestamptz NOT NULL,  -- the site's time of the reading
        lux double precision,  -- null: not finite at the site
        saturated boolean NOT NULL,
        cum_lux_hours double precision,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (site, sensor, ts)
    ) PARTITION BY RANGE (ts);
    CREATE TABLE temperature_readings (
        site text NOT NULL,
        sensor text NOT NULL,
        ts timestamptz NOT NULL,
        celsius double precision,
        relative_humidity_percent double precision,
        cum_equivalent_hours double precision,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (site, sensor, ts)
    ) PARTITION BY RANGE (ts);
    -- Gaps, vial events, alert changes and audit rows as the site wrote them. natural_key (the site's
    -- own never-reused id, where it has one) guards against a row arriving under two numbers.
    CREATE TABLE site_records (
        site text NOT NULL,
        epoch text NOT NULL,
        seq bigint NOT NULL,
        kind text NOT NULL,
        natural_key text,
        site_ts timestamptz,
        record jsonb NOT NULL,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (site, epoch, seq)
    );
    CREATE UNIQUE INDEX site_records_natural ON site_records (site, kind, natural_key);
    -- Counters advanced inside the transaction that uses them: the row lock orders the transactions, so
    -- numbers commit in order, which a sequence (handed out before commit) cannot promise.
    CREATE TABLE fleet_counters (
        name text PRIMARY KEY,
        value bigint NOT NULL
    );
    INSERT INTO fleet_counters (name, value) VALUES ('alert_feed', 0);
    CREATE TABLE alert_feed (
        cursor bigint PRIMARY KEY,
        site text NOT NULL,
        alert_id bigint NOT NULL,
        event_seq bigint NOT NULL,
        record jsonb NOT NULL,
        received_at timestamptz NOT NULL,
        UNIQUE (site, event_seq)
    );
    """,
    # 2: each site's audit chain as central verified it (fleet/central/audit_chain.py), and what it refused
    """
    CREATE TABLE audit_heads (
        site text PRIMARY KEY REFERENCES sites(site),
        rows bigint NOT NULL,  -- rows verified and stored
        head_id bigint NOT NULL,  -- the last of them: the pinned head
        head_hash text NOT NULL,
        broken_at_id bigint,  -- the first refused row (null: not an audit row at all)
        problem text,  -- null while the chain is intact
        broken_at timestamptz
    );
    -- Refused rows, kept apart as the site sent them: reported, never mixed with the verified chain.
    CREATE TABLE audit_refusals (
        site text NOT NULL,
        epoch text NOT NULL,
        seq bigint NOT NULL,
        row_id bigint,
        problem text NOT NULL,
        record jsonb NOT NULL,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (site, epoch, seq)
    );
    """,
    # 3: each site's configuration as it stands, from the upserts it queues (monitor/store/config_mirror.py),
    # keyed by (site, the site's own id) with the natural key unique beside it; what the model reads at
    # central (fleet/central/model_inputs.py). Refused rows kept apart with the reason.
    f"""
    CREATE TABLE site_locations (
        site text NOT NULL REFERENCES sites(site),
        site_id bigint NOT NULL,
        key text NOT NULL,
        name text NOT NULL,
        kind text NOT NULL,
        lamp text,  -- null: none configured (the catalog's unknown lamp)
        worst_case_lux double precision,  -- null: unseen light bounded by the highest seen
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (site, site_id),
        UNIQUE (site, key)
    );
    CREATE TABLE site_sensors (
        site text NOT NULL,
        site_id bigint NOT NULL,  -- the site's order of declaration: the first is a location's ledger
        key text NOT NULL,
        location_id bigint NOT NULL,
        quantity text NOT NULL CHECK (quantity IN {sql_in(QUANTITIES)}),
        driver text NOT NULL,
        interval_seconds double precision NOT NULL,
        max_gap_seconds double precision NOT NULL,
        status text NOT NULL,
        status_detail text NOT NULL,
        status_since timestamptz,
        calibration_certificate text,
        calibration_due_at timestamptz,
        calibration_uncertainty double precision,  -- expanded (k = 2), in the quantity's unit
        spectral boolean NOT NULL,  -- has given spectral readings (their ledgers stay at the site)
        near_uv boolean NOT NULL,  -- has given near-UV readings (likewise)
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (site, site_id),
        UNIQUE (site, key),
        FOREIGN KEY (site, location_id) REFERENCES site_locations (site, site_id)
    );
    CREATE TABLE site_vials (
        site text NOT NULL REFERENCES sites(site),
        site_id bigint NOT NULL,
        key text NOT NULL,
        drug text NOT NULL,
        form text NOT NULL,
        lot text NOT NULL,
        expiry text,
        initial_potency_percent double precision NOT NULL,
        registered_ts double precision NOT NULL,  -- the site's seconds, exactly as the model reads them
        status text NOT NULL CHECK (status IN {sql_in(VIAL_STATUSES)}),
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (site, site_id),
        UNIQUE (site, key)
    );
    CREATE TABLE site_settings (
        site text PRIMARY KEY REFERENCES sites(site),
        report_lag_seconds double precision NOT NULL,  -- the bridge's commit window, in the site's seconds
        potency_warning_percent double precision,  -- null: not yet sent (no verdict until they are)
        potency_critical_percent double precision,
        drug_profiles_sha256 text,  -- the site's extra drug profiles; null: the shipped ones alone
        vialguard_version text,
        updated_at timestamptz NOT NULL
    );
    CREATE TABLE config_refusals (
        site text NOT NULL,
        epoch text NOT NULL,
        seq bigint NOT NULL,
        kind text NOT NULL,
        problem text NOT NULL,
        record jsonb NOT NULL,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (site, epoch, seq)
    );
    -- Each light sensor's highest lux per clock hour (of the site's time), kept at ingest as the site
    -- keeps it (monitor/store/readings.py): the bound on unseen light reads hours, not readings. Not
    -- finite at the site (null here): infinite. Kept when retention drops the readings, as at the site.
    CREATE TABLE light_hour_maxima (
        site text NOT NULL,
        sensor text NOT NULL,
        hour_ts double precision NOT NULL,  -- the hour's start, Unix seconds
        max_lux double precision NOT NULL,
        PRIMARY KEY (site, sensor, hour_ts)
    );
    INSERT INTO light_hour_maxima (site, sensor, hour_ts, max_lux)
        SELECT site, sensor, floor(extract(epoch FROM ts) / 3600) * 3600, max(coalesce(lux, 'Infinity'))
        FROM light_readings GROUP BY 1, 2, 3;
    -- A vial's events, the gaps and the saturated readings, as the loader reads them.
    CREATE INDEX light_readings_saturated ON light_readings (site, sensor, ts) WHERE saturated;
    CREATE INDEX site_records_vial_events ON site_records (site, (record->>'vial')) WHERE kind = 'vial-event';
    CREATE INDEX site_records_gaps ON site_records (site, (record->>'id'), seq)
        WHERE kind IN ('gap', 'gap-removed');
    """,
    # 4: writes from central (fleet/central/commands.py): operators' tokens, the commands sent to sites,
    # and central's own audit chain (the hash code of monitor/audit.py)
    """
    CREATE TABLE operator_tokens (
        id bigserial PRIMARY KEY,
        token_id text NOT NULL UNIQUE,  -- the public part of vg_<token_id>_<secret>
        name text NOT NULL,
        scope text NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
        sha256 text NOT NULL,  -- of the whole token; the token itself is never stored
        created_at timestamptz NOT NULL,
        expires_at timestamptz,
        revoked_at timestamptz
    );
    CREATE UNIQUE INDEX operator_tokens_live_name ON operator_tokens (name) WHERE revoked_at IS NULL;
    -- One row per command; (operator, idempotency_key) makes a retried request find the first one.
    CREATE TABLE commands (
        id uuid PRIMARY KEY,
        site text NOT NULL REFERENCES sites(site),
        kind text NOT NULL,
        args jsonb NOT NULL,
        operator text NOT NULL,
        idempotency_key text NOT NULL,
        request_sha256 text NOT NULL,  -- the request the key was first given with
        state text NOT NULL CHECK (state IN ('queued', 'applied', 'refused')),
        reason text,  -- the site's, when refused
        result jsonb,  -- what the site recorded
        created_at timestamptz NOT NULL,
        published_at timestamptz,
        publications integer NOT NULL DEFAULT 0,
        resolved_at timestamptz,  -- central's clock when the site's result arrived
        UNIQUE (operator, idempotency_key)
    );
    CREATE INDEX commands_queued ON commands (site, created_at) WHERE state = 'queued';
    -- Central's own actions, chained as a site's audit_log is; ids from the counter, never reused.
    CREATE TABLE central_audit (
        id bigint PRIMARY KEY,
        ts double precision NOT NULL,  -- central's clock, as the hash covers it
        actor text NOT NULL,
        action text NOT NULL,
        subject text NOT NULL,
        detail text NOT NULL,  -- canonical JSON
        prev_hash text NOT NULL,
        hash text NOT NULL
    );
    INSERT INTO fleet_counters (name, value) VALUES ('central_audit', 0);
    """,
    # 5: proof that the rows central holds are the site's own (docs/fleet-protocol.md, "Ownership"): the
    # site's running digest at each epoch's point, each epoch's parent and the reason the site drew it,
    # and the rows of a new epoch whose site id central holds with another content (kept apart, reported)
    """
    ALTER TABLE site_epochs ADD COLUMN acked_digest text;  -- null: committed by a site without digests
    ALTER TABLE site_epochs ADD COLUMN parent_epoch text;  -- the epoch the site replaced with this one
    ALTER TABLE site_epochs ADD COLUMN reason text;  -- why the site drew it (null: the uplink enabled)
    ALTER TABLE site_epochs ADD COLUMN started_at timestamptz;  -- null: began before migration 5
    CREATE TABLE site_record_conflicts (
        site text NOT NULL,
        epoch text NOT NULL,
        seq bigint NOT NULL,
        kind text NOT NULL,
        natural_key text NOT NULL,
        record jsonb NOT NULL,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (site, epoch, seq)
    );
    """,
    # 6: the site's alert limits ([rules] besides the verdict's thresholds: light and temperature limits,
    # hold times), which its dashboard and reports read; central serves them with the site's own
    """
    ALTER TABLE site_settings ADD COLUMN rule_limits jsonb;  -- null: not yet sent (those views refuse)
    """,
    # 7 (to follow any other 7th at a merge): central's own alerts (fleet/central/central_alerts.py), each
    # as it stands, its changes in the fleet's feed; the conflicts each told of (null: none has yet)
    f"""
    CREATE TABLE central_alerts (
        id bigint PRIMARY KEY,  -- from the counter
        site text NOT NULL REFERENCES sites(site),  -- the site it concerns
        rule text NOT NULL,
        state text NOT NULL CHECK (state IN {sql_in(ALERT_STATES)}),
        record jsonb NOT NULL  -- as it stands: its last change in the feed
    );
    CREATE UNIQUE INDEX central_alerts_standing ON central_alerts (site, rule) WHERE state <> 'resolved';
    INSERT INTO fleet_counters (name, value) VALUES ('central_alerts', 0), ('central_alert_events', 0);
    ALTER TABLE site_record_conflicts ADD COLUMN alert_id bigint
        REFERENCES central_alerts(id) DEFERRABLE INITIALLY DEFERRED;  -- the alert is written after its count
    CREATE INDEX site_record_conflicts_unseen ON site_record_conflicts (site) WHERE alert_id IS NULL;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
_LOCK_KEY = 0x76616C67  # an advisory lock: two centrals starting together migrate one after the other


def migrate(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`, each migration in its own transaction; the version
    found before."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS central_schema (version integer NOT NULL)")
        row = conn.execute("SELECT version FROM central_schema").fetchone()
        if row is None:
            conn.execute("INSERT INTO central_schema (version) VALUES (0)")
    found = 0 if row is None else int(str(row[0]))
    if found > SCHEMA_VERSION:
        raise CentralSchemaError(
            f"central's schema version {found} is newer than this vialguard's {SCHEMA_VERSION}"
        )
    for version in range(found, SCHEMA_VERSION):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            current = conn.execute("SELECT version FROM central_schema FOR UPDATE").fetchone()
            if current is not None and int(str(current[0])) > version:
                continue  # another central ran it meanwhile
            conn.execute(MIGRATIONS[version])
            conn.execute("UPDATE central_schema SET version = %s", (version + 1,))
    return found
