"""16: two indexes that keep the potency's reads independent of the history's length.

- The minute aggregates that hold saturated readings. The potency bounds read a sensor's saturated
  readings over a vial's whole life, and past the raw retention period they live in ``minute_aggregates``
  (a year of 1 Hz light: 400,000 minutes a sensor); without the index that read scans every minute of the
  span for the few with ``saturated > 0``. Partial: nothing for the minutes without saturation.
- Each light sensor's hours by their maximum lux. Without a configured worst case, light a sensor did
  not see is bounded by the highest lux seen around it; for a stretch of months that is almost always
  one of the sensor's highest hours, which this index finds without reading the months' hours
  (:mod:`monitor.store.model_inputs`).
"""

from __future__ import annotations

SQL = """
    CREATE INDEX minute_aggregates_saturated ON minute_aggregates(sensor_id, minute_ts) WHERE saturated > 0;
    CREATE INDEX light_hour_maxima_by_lux ON light_hour_maxima(sensor_id, max_lux);
"""
