"""14: each light sensor's highest lux per clock hour, kept at ingest (monitor/store/readings.py): the
bound on light a sensor did not see (read by monitor/store/model_inputs.py) reads a day's hours instead of
a month of readings
"""

from __future__ import annotations

SQL = """
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
