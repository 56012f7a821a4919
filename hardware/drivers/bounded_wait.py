"""Bounding a driver's polling loops: a chip whose ready bit never sets must not hang the bridge.

``adafruit_ltr390`` polls its data-ready bit with ``while not self.data_ready: sleep(0.010)`` and no
limit, and ``adafruit_as7341`` waits for the chip to clear SMUXEN the same way; a chip that stops
converting (or a bus that reads back stale zeros) would block the acquisition loop for ever. For the
duration of one call the driver module's ``sleep`` is replaced by one that adds up what it was asked to
wait and raises :class:`hardware.errors.SensorUnavailable` past a limit, then sleeps as before (not at all
on an emulated bus, whose conversions are instant). Bus IO is single-threaded, so the swap cannot leak.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from hardware.errors import SensorUnavailable
from hardware.i2c_emulator import EmulatedI2C


@contextmanager
def bounded_waits(module: ModuleType, bus: object, limit_seconds: float, name: str) -> Iterator[None]:
    emulated = isinstance(bus, EmulatedI2C)
    saved = module.sleep
    waited = 0.0

    def sleep(seconds: float) -> None:
        nonlocal waited
        waited += seconds
        if waited > limit_seconds:
            raise SensorUnavailable(f"{name}: no conversion ready within {limit_seconds:g} s")
        if not emulated:
            time.sleep(seconds)

    module.sleep = sleep  # type: ignore[attr-defined]
    try:
        yield
    finally:
        module.sleep = saved  # type: ignore[attr-defined]
