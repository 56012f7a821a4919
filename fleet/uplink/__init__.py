"""A site's uplink to central: sends the outbox over MQTT, deletes only what central acknowledged.

Runs on each Pi beside the bridge (``vialguard uplink``, or supervised by ``vialguard run`` when the
settings have a ``[fleet]`` table); pure Python (paho-mqtt). Imports ``monitor``, ``fleet.protocol``
and ``fleet.commands``, never ``fleet.central``.
"""
