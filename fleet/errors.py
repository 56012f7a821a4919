"""The fleet's exceptions, under vialguard's own base (so the command line gives each its exit status).

    VialguardError (monitor.errors)
     +-- FleetError             the fleet's base
          +-- EngineError       a private Mosquitto or PostgreSQL failed to start or stop (fleet/engines)
          +-- CentralUnavailable  central's PostgreSQL cannot be reached or refused a statement
          +-- CentralSchemaError  central's schema is newer than this code

The protocol's parse errors are :class:`fleet.protocol.ProtocolError`, caught where messages arrive.
"""

from __future__ import annotations

from monitor.errors import VialguardError


class FleetError(VialguardError):
    """Base of the fleet's errors."""


class EngineError(FleetError):
    """A private server failed to start or stop; the message names it and where its log is."""


class CentralUnavailable(FleetError):
    """Central's database cannot be reached, or failed a statement; the message says which."""


class CentralSchemaError(FleetError):
    """Central's database schema is newer than this code understands."""
