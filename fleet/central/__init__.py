"""Central: ingests every site's batches into PostgreSQL (psycopg 3) and serves the fleet's API.

Imports ``fleet.protocol`` and ``monitor``, never ``fleet.uplink``; needs the ``central`` extra (psycopg).
"""
