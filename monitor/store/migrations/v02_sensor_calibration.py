"""2: sensor calibration certificates (due date for the overdue alert, uncertainty for the model)"""

from __future__ import annotations

SQL = """
    ALTER TABLE sensors ADD COLUMN calibration_certificate TEXT;
    ALTER TABLE sensors ADD COLUMN calibration_due_ts REAL;
    ALTER TABLE sensors ADD COLUMN calibration_uncertainty REAL;
"""
