"""13: API tokens may expire (real time, also in simulation: a token is a credential, not a reading)"""

from __future__ import annotations

SQL = """
    ALTER TABLE api_tokens ADD COLUMN expires_ts REAL;
"""
