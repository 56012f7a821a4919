"""The exceptions vialguard's domain raises, as one tree.

    VialguardError            base of everything raised on purpose above the hardware layer
     +-- ConfigError          a settings or drug-profile file is unusable; names the file, key and reason
     +-- StoreError           the database cannot be opened, migrated or written
     |    +-- SchemaError     the database's schema is newer than this code, or a migration failed
     |    +-- DatabaseBusy    another bridge holds the database (monitor/store/bridge_lock.py)
     |    +-- DatabaseUnusable  a command that only reads was named a database that is missing or
     |    |                     of another schema version (it never creates or migrates one)
     |    +-- StoreUnavailable  the database cannot be used right now (full, locked, read-only, failing
     |    |                     disk): a state of the machine, worth retrying (HTTP 503 with Retry-After)
     |    +-- StoreFault      the database refused a statement for another reason: a bug (HTTP 500)
     |         +-- IntegrityViolation  a constraint of the schema refused a write
     +-- NotFound             a vial, alert, location or sensor that does not exist
     +-- InvalidRequest       a well-formed request the domain refuses (unknown drug, empty comment)
     +-- Unauthorized         no API token, or one that is unknown or revoked (HTTP 401)
     +-- Forbidden            a valid API token whose scope does not cover the request (HTTP 403)

Hardware failures have their own tree in :mod:`hardware.errors`; the bridge translates those into sensor
statuses. The API maps ``NotFound`` to 404 and ``InvalidRequest`` to 422, always with the message.
Each store backend translates its driver's exceptions into the ``StoreError`` branch at its boundary
(:mod:`monitor.store.database` for SQLite), so the API never sees a driver's exception.
"""

from __future__ import annotations


class VialguardError(Exception):
    """Base class of every error raised on purpose by vialguard's domain."""


class ConfigError(VialguardError):
    """A configuration or profile file is unusable; the message names the file, the key and the reason."""


class StoreError(VialguardError):
    """The database could not be opened, migrated or written."""


class SchemaError(StoreError):
    """The database schema is newer than this code understands, or a migration failed."""


class DatabaseBusy(StoreError):
    """Another bridge process holds the database's lock; the message names the database and its pid."""


class DatabaseUnusable(StoreError):
    """A command that only reads was pointed at no database, or at one of another schema version: the
    message names the path and what to do (name another, or let the bridge migrate it)."""


class StoreUnavailable(StoreError):
    """The database cannot be used right now: full, locked by another writer past the wait, read-only, or
    its disk failing. The message says which, for a client that may retry."""


class StoreFault(StoreError):
    """The database refused a statement for a reason that is not the machine's state: a bug, logged with
    its trace. The message starts with ``database error:``."""


class IntegrityViolation(StoreFault):
    """A constraint of the schema (unique, foreign key, check) refused a write."""


class NotFound(VialguardError):
    """The requested vial, alert, location or sensor does not exist."""


class InvalidRequest(VialguardError):
    """A request that is well formed but that the domain refuses; the message says why."""


class Unauthorized(VialguardError):
    """The request carries no API token, or one that is malformed, unknown or revoked."""


class Forbidden(VialguardError):
    """The request's API token is valid but its scope does not cover what was asked."""
