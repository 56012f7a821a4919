"""3: the light at a location, for the model: its lamp type (spectrum factor) and the worst-case lux
assumed for what the sensor did not see; saturated readings found without a scan
"""

from __future__ import annotations

SQL = """
    ALTER TABLE locations ADD COLUMN lamp TEXT;
    ALTER TABLE locations ADD COLUMN worst_case_lux REAL;
    CREATE INDEX light_readings_saturated ON light_readings(sensor_id, ts) WHERE saturated = 1;
"""
