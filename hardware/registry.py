"""The sensor drivers vialguard knows, as a table: name, quantity, bus, default place, class, chip model.

Adding a chip is adding a row. The bridge builds sensors from configuration through :func:`build_sensor`
on a real bus (:mod:`hardware.bus`, :class:`hardware.w1.SysfsW1`) or on emulated ones
(:func:`emulated_buses`).
An I2C sensor is placed by its 7-bit address, a 1-Wire probe by its device id (``28-...``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hardware.calibration import Calibration
from hardware.chips.as7341 import As7341Chip
from hardware.chips.bh1750 import Bh1750Chip
from hardware.chips.ds18b20 import Ds18b20Chip, EmulatedW1
from hardware.chips.ltr390 import Ltr390Chip
from hardware.chips.mcp9808 import Mcp9808Chip
from hardware.chips.pct2075 import Pct2075Chip
from hardware.chips.sht4x import Sht4xChip
from hardware.chips.tsl2591 import Tsl2591Chip
from hardware.chips.veml7700 import Veml7700Chip
from hardware.drivers.as7341 import As7341Sensor
from hardware.drivers.bh1750 import Bh1750Sensor
from hardware.drivers.ltr390 import Ltr390Sensor
from hardware.drivers.mcp9808 import Mcp9808Sensor
from hardware.drivers.pct2075 import Pct2075Sensor
from hardware.drivers.sht4x import Sht4xSensor
from hardware.drivers.tsl2591 import Tsl2591Sensor
from hardware.drivers.veml7700 import Veml7700Sensor
from hardware.environment import Environment
from hardware.i2c_emulator import EmulatedI2C
from hardware.sensor import LightSensor, TemperatureSensor
from hardware.w1 import Ds18b20Sensor

Quantity = Literal["light", "temperature"]
BusKind = Literal["i2c", "w1"]
Sensor = LightSensor | TemperatureSensor
Place = int | str  # an I2C address or a 1-Wire device id


@dataclass(frozen=True, slots=True)
class DriverSpec:
    name: str
    quantity: Quantity
    bus_kind: BusKind
    default_place: Place | None
    build: Callable[[Any, Place, Calibration], Sensor]
    chip: Callable[[Environment, Callable[[], float], int], Any]


DRIVERS: dict[str, DriverSpec] = {
    spec.name: spec
    for spec in (
        DriverSpec("tsl2591", "light", "i2c", 0x29, lambda b, a, c: Tsl2591Sensor(b, int(a), c), Tsl2591Chip),
        DriverSpec(
            "veml7700", "light", "i2c", 0x10, lambda b, a, c: Veml7700Sensor(b, int(a), c), Veml7700Chip
        ),
        DriverSpec("bh1750", "light", "i2c", 0x23, lambda b, a, c: Bh1750Sensor(b, int(a), c), Bh1750Chip),
        DriverSpec("as7341", "light", "i2c", 0x39, lambda b, a, c: As7341Sensor(b, int(a), c), As7341Chip),
        DriverSpec("ltr390", "light", "i2c", 0x53, lambda b, a, c: Ltr390Sensor(b, int(a), c), Ltr390Chip),
        DriverSpec(
            "mcp9808", "temperature", "i2c", 0x18, lambda b, a, c: Mcp9808Sensor(b, int(a), c), Mcp9808Chip
        ),
        DriverSpec("sht4x", "temperature", "i2c", 0x44, lambda b, a, c: Sht4xSensor(b, int(a), c), Sht4xChip),
        DriverSpec(
            "pct2075", "temperature", "i2c", 0x37, lambda b, a, c: Pct2075Sensor(b, int(a), c), Pct2075Chip
        ),
        DriverSpec(
            "ds18b20", "temperature", "w1", None, lambda b, d, c: Ds18b20Sensor(b, str(d), c), Ds18b20Chip
        ),
    )
}


def driver_spec(name: str) -> DriverSpec:
    try:
        return DRIVERS[name]
    except KeyError:
        raise KeyError(f"unknown driver {name!r}; known: {', '.join(sorted(DRIVERS))}") from None


def place_of(driver: str, address: int | None, device_id: str | None) -> Place:
    """Where a configured sensor sits on its bus; ``ValueError`` when a 1-Wire probe names no device id."""
    spec = driver_spec(driver)
    if spec.bus_kind == "w1":
        if device_id is None:
            raise ValueError(f"a {driver} probe needs its device_id (e.g. 28-0316a2791aff)")
        return device_id
    if address is not None:
        return address
    assert spec.default_place is not None
    return spec.default_place


def build_sensor(driver: str, bus: object, place: Place, calibration: Calibration | None = None) -> Sensor:
    """A configured sensor on ``bus``; raises :class:`hardware.errors.SensorUnavailable` if absent."""
    return driver_spec(driver).build(bus, place, calibration or Calibration())


def emulated_buses(
    placements: Sequence[tuple[str, Place]],
    environment: Environment,
    now: Callable[[], float],
    seed: int = 0,
) -> tuple[EmulatedI2C, EmulatedW1]:
    """Emulated I2C and 1-Wire buses with a chip for each ``(driver, place)``, reading ``environment``."""
    i2c, w1 = EmulatedI2C(), EmulatedW1()
    for i, (driver, place) in enumerate(placements):
        spec = driver_spec(driver)
        chip = spec.chip(environment, now, seed + i)
        if spec.bus_kind == "w1":
            w1.chips[str(place)] = chip
        else:
            i2c.attach(int(place), chip)
    return i2c, w1
