"""Sensor classes around the genuine Adafruit drivers; each receives its bus and implements the interface.

Foreign errors are translated here: ``OSError`` from the bus and ``ValueError``/``RuntimeError`` from a
driver's probe become :class:`hardware.errors.SensorUnavailable`.
"""
