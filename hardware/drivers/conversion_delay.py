"""Skipping a driver's conversion-time sleeps when its chip is emulated.

Several Adafruit drivers sleep for the ADC's conversion time (BH1750 180 ms per settings write, SHT4x 10 ms
per measurement). An emulated chip has its result ready at once, and a simulation at 600x cannot afford
real sleeps, so on an emulated bus the driver module's ``sleep`` (or ``time``) reference is swapped for a
no-op for the duration of one call. Bus IO is single-threaded (``adafruit_register`` shares a module
buffer), so the swap cannot leak into another call; on a real bus nothing is touched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType, SimpleNamespace

from hardware.i2c_emulator import EmulatedI2C

_INSTANT_TIME = SimpleNamespace(sleep=lambda seconds: None, monotonic=time.monotonic)


@contextmanager
def instant_if_emulated(module: ModuleType, bus: object) -> Iterator[None]:
    if not isinstance(bus, EmulatedI2C):
        yield
        return
    saved = {name: getattr(module, name) for name in ("sleep", "time") if hasattr(module, name)}
    if "sleep" in saved:
        module.sleep = _INSTANT_TIME.sleep  # type: ignore[attr-defined]
    if "time" in saved:
        module.time = _INSTANT_TIME  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)
