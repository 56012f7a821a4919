"""7: API tokens: only a SHA-256 digest of each token is kept (tokens are 256 random bits, so a plain digest
cannot be searched backwards; a slow hash would only slow every request). token_id is the public part of
the token, looked up by index before the digest is compared in constant time. One live token per name.
"""

from __future__ import annotations

SQL = """
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
