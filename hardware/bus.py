"""The one place that opens a real I2C bus: on a Raspberry Pi, through Blinka.

``board`` and ``busio`` are imported inside the function, never at import time: on a machine that is not a
Pi, importing them succeeds but offers no I2C, and on a Pi Blinka may offer to pip-install platform packages
interactively unless ``BLINKA_SKIP_DEPENDENCY_CHECK`` is set.
"""

from __future__ import annotations

import os

from hardware.errors import BusError


def open_i2c_bus(bus_number: int = 1) -> object:
    """The I2C bus ``/dev/i2c-<bus_number>`` as a busio-compatible object."""
    os.environ.setdefault("BLINKA_SKIP_DEPENDENCY_CHECK", "1")
    try:
        if bus_number == 1:
            import board  # type: ignore[import-untyped]  # Blinka ships no type hints

            return board.I2C()
        from adafruit_extended_bus import ExtendedI2C  # type: ignore[import-not-found]  # optional, Pi only

        return ExtendedI2C(bus_number)
    except (ImportError, AttributeError, OSError, ValueError, RuntimeError) as exc:
        raise BusError(
            f"cannot open I2C bus {bus_number}: {exc} (is this a Raspberry Pi with I2C enabled? "
            "run `sudo raspi-config nonint do_i2c 0`; use --simulate elsewhere)"
        ) from exc
