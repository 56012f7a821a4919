"""The fleet: each site's uplink to central over MQTT, central's store on PostgreSQL, and the engines.

Imports point one way: ``fleet`` may import ``monitor``; ``monitor`` never imports ``fleet``. Inside,
``fleet.uplink`` (runs on each Pi: pure Python) and ``fleet.central`` (the fleet's server) share only
``fleet.protocol`` and ``fleet.commands`` (the messages on the wire), and ``fleet.engines`` starts
private Mosquitto and PostgreSQL servers from Debian's packages, for tests and demonstrations.
"""
