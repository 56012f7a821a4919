"""vialguard firmware for a Raspberry Pi Pico (RP2040) running CircuitPython: the board's ``code.py``.

Copy this file to the CIRCUITPY drive's root, ``boot.py`` beside it (it enables the USB data channel),
the ``firmware_bridge`` package (``__init__.py``, ``frames.py`` and the ``firmware`` folder) into
``lib/``, and the Adafruit drivers the sensors need (``adafruit_tsl2591``, ``adafruit_mcp9808``,
``adafruit_pct2075``, ``adafruit_bus_device``, ``adafruit_register``) from the CircuitPython bundle into
``lib/``. Sensors are set in ``settings.toml`` as ``key:driver:address:interval_ms`` entries joined by
``;``, e.g. ``VIALGUARD_SENSORS = "fridge-1-lux:tsl2591:0x29:1000;fridge-1-temp:mcp9808:0x18:10000"``;
the keys are the site's sensor keys, configured there with ``driver = "serial"``.

Under CPython the same file is loaded by path (never with its folder on ``sys.path``: a ``code.py`` there
would shadow the standard ``code`` module) and :func:`run` is called with the emulated bus and a
pseudo-terminal; the block at the bottom runs only on the board.
"""

import time

from firmware_bridge.firmware.device import DEFAULT_SENSORS, Device, build_probes, parse_sensors
from firmware_bridge.firmware.ring import DEFAULT_CAPACITY


def run(
    i2c: object,
    port: object,
    ticks_ms: object,
    device_id: str,
    boot_id: str,
    sensors: str = DEFAULT_SENSORS,
    capacity: int = DEFAULT_CAPACITY,
    wrap_bits: int = 29,
    should_stop: object = None,
    idle: object = None,
    settle: object = None,
    on_start: object = None,
) -> Device:
    """Sample and stream until ``should_stop()`` is true (never, on the board)."""
    device = Device(
        port,
        build_probes(i2c, parse_sensors(sensors), settle),
        ticks_ms,
        device_id,
        boot_id,
        capacity=capacity,
        wrap_bits=wrap_bits,
    )
    if on_start is not None:
        on_start(device)  # type: ignore[operator]
    pause = idle if idle is not None else time.sleep
    while should_stop is None or not should_stop():  # type: ignore[operator]
        device.step()
        pause(0.005)  # type: ignore[operator]
    return device


if __name__ == "__main__":
    import os

    import board  # type: ignore[import-untyped]  # CircuitPython's (or Blinka's), no type hints
    import microcontroller  # type: ignore[import-untyped]  # CircuitPython's (or Blinka's), no type hints
    import supervisor  # type: ignore[import-not-found]  # CircuitPython only
    import usb_cdc  # type: ignore[import-not-found]  # CircuitPython only

    serial = usb_cdc.data
    serial.timeout = 0
    serial.write_timeout = 0.1  # never block sampling on a host that is not reading
    run(
        board.I2C(),
        serial,
        supervisor.ticks_ms,
        "".join(f"{b:02x}" for b in microcontroller.cpu.uid),
        "".join(f"{b:02x}" for b in os.urandom(4)),
        os.getenv("VIALGUARD_SENSORS") or DEFAULT_SENSORS,
        settle=time.sleep,
    )
