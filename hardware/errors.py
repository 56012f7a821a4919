"""The exceptions hardware raises, as one tree.

    HardwareError                 base of everything this package raises on purpose
     +-- SensorError              one sensor could not give a trustworthy value
     |    +-- SensorUnavailable   absent at start, NACK/EIO mid-run, bus hung, 1-Wire CRC failure
     |    +-- SensorOutOfRange    a value outside what the chip can physically report
     |    +-- SensorFrozen        identical raw counts where noise is expected
     +-- BusError                 the bus itself cannot be opened (no /dev/i2c-1, not a Pi)

Each class declares the ``kind`` a fault of it is recorded and reported as (``sensor_faults.kind``, the
serial protocol's fault kinds, the metrics' ``kind`` label): declared, never derived from a class name.

Foreign exceptions (OSError from the bus, RuntimeError from an Adafruit driver, ValueError from
adafruit_bus_device's probe) are translated into these at the driver boundary with ``raise ... from exc``,
so callers catch ``HardwareError`` and nothing wider.
"""

from __future__ import annotations


class HardwareError(Exception):
    """Base class of every error raised on purpose by :mod:`hardware`."""

    kind = "error"


class SensorError(HardwareError):
    """One sensor failed to give a trustworthy reading; the others are unaffected."""


class SensorUnavailable(SensorError):
    """The sensor did not answer: absent, NACK or EIO, a hung bus, a failed 1-Wire CRC."""

    kind = "unavailable"


class SensorOutOfRange(SensorError):
    """The sensor answered with a value outside the chip's physical range."""

    kind = "out-of-range"  # as the firmware's probes name it (firmware_bridge/firmware/probes.py)


class SensorFrozen(SensorError):
    """The sensor keeps returning identical raw counts where noise is expected."""

    kind = "frozen"


class BusError(HardwareError):
    """The I2C bus (or 1-Wire master) could not be opened at all."""

    kind = "bus"
