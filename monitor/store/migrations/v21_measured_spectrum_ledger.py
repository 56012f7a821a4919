"""21: the spectrum a spectral chip (AS7341) measured, as ledgers the photolysis integral reads; and the
webhook outbox's numbers written in full.

Per reading, the spectral irradiance the chip's channels give at each filter peak (W m⁻² nm⁻¹), scaled to
the reading's lux, is integrated like the lux ledger (trapezoid, nothing across gaps) into one cumulative
column per channel, F1 to F8. The estimate being linear in those irradiances, a ledger's difference over
a stretch is the estimate of all the light of the stretch: its joint rate per form and container is the
lux-weighted mean of the readings' (:mod:`monitor.model.place_rates`). Readings stored before this
migration keep 0: their light is taken as uncharacterised (the configured lamp's rate).

The webhook trigger of migration 9 wrote each REAL through ``json_object``, which keeps 15 significant
digits: a potency of 94.61234567890123 % reached the receiver as 94.6123456789012. It is created again
writing each REAL with 17 significant digits, which read back as the same double (as the uplink's outbox
does, migration 17); an infinite value still goes as null. A later migration that rebuilds the alerts
table must create this trigger again, as here: dropping a table drops its triggers.
"""

from __future__ import annotations

from monitor.store.outbox_sql import real as _real

CHANNELS = 8  # the AS7341's filter channels F1-F8, in wavelength order


def _finite(expr: str) -> str:
    """As :func:`_real`, and null for an infinite value (JSON has no infinity)."""
    return f"CASE WHEN abs({expr}) < 9e999 THEN {_real(expr)} END"


_SPECTRUM = "\n".join(
    f"ALTER TABLE spectral_readings ADD COLUMN cum_f{k}_wh_per_m2_nm REAL NOT NULL DEFAULT 0;"
    for k in range(1, CHANNELS + 1)
)

_WEBHOOK = f"""
    DROP TRIGGER alert_change_to_outbox;
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
            'started_ts', {_real("NEW.started_ts")}, 'fired_ts', {_real("NEW.fired_ts")},
            'ended_ts', {_real("NEW.ended_ts")},
            'value', {_finite("NEW.value")},
            'worst_value', {_finite("NEW.worst_value")},
            'message', NEW.message,
            'acknowledged_by', NEW.ack_by, 'acknowledgement_comment', NEW.ack_comment,
            'ack_ts', {_real("NEW.ack_ts")}, 'escalated_ts', {_real("NEW.escalated_ts")},
            'silence_id', NEW.silence_id)
        FROM alert_events AS e WHERE e.seq = NEW.seq;
    END;
"""

SQL = _SPECTRUM + "\n" + _WEBHOOK
