"""The sensor drivers vialguard knows, as a table: name, quantity, default address, real class, chip model.

Adding a chip is adding a row. The bridge builds sensors from configuration through :func:`build_sensor`,
on a real bus (:mod:`hardware.bus`) or on an emulated one from :func:`emulated_bus`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from hardware.calibration import Calibration
from hardware.chips.mcp9808 import Mcp9808Chip
from hardware.chips.tsl2591 import Tsl2591Chip
from hardware.drivers.mcp9808 import Mcp9808Sensor
from hardware.drivers.tsl2591 import Tsl2591Sensor
from hardware.environment import Environment
from hardware.i2c_emulator import ChipModel, EmulatedI2C
from hardware.sensor import LightSensor, TemperatureSensor

Quantity = Literal["light", "temperature"]


@dataclass(frozen=True, slots=True)
class DriverSpec:
    name: str
    quantity: Quantity
    default_address: int
    build: Callable[[object, int, Calibration], LightSensor | TemperatureSensor]
    chip: Callable[[Environment, Callable[[], float], int], ChipModel]


DRIVERS: dict[str, DriverSpec] = {
    spec.name: spec
    for spec in (
        DriverSpec("tsl2591", "light", 0x29, lambda bus, a, c: Tsl2591Sensor(bus, a, c), Tsl2591Chip),
        DriverSpec("mcp9808", "temperature", 0x18, lambda bus, a, c: Mcp9808Sensor(bus, a, c), Mcp9808Chip),
    )
}


def driver_spec(name: str) -> DriverSpec:
    try:
        return DRIVERS[name]
    except KeyError:
        raise KeyError(f"unknown driver {name!r}; known: {', '.join(sorted(DRIVERS))}") from None


def build_sensor(
    driver: str, bus: object, address: int | None = None, calibration: Calibration | None = None
) -> LightSensor | TemperatureSensor:
    """A configured sensor on ``bus``; raises :class:`hardware.errors.SensorUnavailable` if absent."""
    spec = driver_spec(driver)
    return spec.build(bus, spec.default_address if address is None else address, calibration or Calibration())


def emulated_bus(
    placements: Sequence[tuple[str, int | None]],
    environment: Environment,
    now: Callable[[], float],
    seed: int = 0,
) -> EmulatedI2C:
    """An emulated bus with a chip model for each ``(driver, address)``, all reading ``environment``."""
    bus = EmulatedI2C()
    for i, (driver, address) in enumerate(placements):
        spec = driver_spec(driver)
        bus.attach(
            spec.default_address if address is None else address, spec.chip(environment, now, seed + i)
        )
    return bus
