"""VEML7700, BH1750, SHT4x and PCT2075 through their genuine drivers on emulated chips."""

from __future__ import annotations

import pytest

from hardware.chips.sht4x import Sht4xChip, sensirion_crc8
from hardware.environment import Conditions
from hardware.errors import SensorUnavailable
from hardware.i2c_emulator import EmulatedI2C
from hardware.registry import DRIVERS, build_sensor, emulated_buses
from hardware.sensor import LightSensor, TemperatureSensor

# Per light chip: its lux per count at the most sensitive setting (the floor of absolute accuracy),
# its relative accuracy (datasheet), and the highest lux it reaches.
LIGHT = {"veml7700": (0.0042, 0.03, 120_000.0), "bh1750": (0.42, 0.2, 54_612.0)}
THERMO = {"sht4x": 0.2, "pct2075": 1.0}


class Room:
    def __init__(self, lux: float = 0.0, celsius: float = 4.0, rh: float = 45.0) -> None:
        self.lux, self.celsius, self.rh = lux, celsius, rh

    def conditions(self, wall_seconds: float) -> Conditions:
        return Conditions(lux=self.lux, celsius=self.celsius, relative_humidity_percent=self.rh)


def on_bus(driver: str, room: Room) -> tuple[LightSensor | TemperatureSensor, EmulatedI2C]:
    address = DRIVERS[driver].default_place
    assert isinstance(address, int)
    bus, _ = emulated_buses([(driver, address)], room, lambda: 0.0)
    return build_sensor(driver, bus, address), bus


@pytest.mark.parametrize("driver", sorted(LIGHT))
@pytest.mark.parametrize("lux", [0.01, 1.0, 100.0, 10_000.0, 80_000.0], ids=lambda x: f"{x:g}lx")
def test_light_chip_reads_within_accuracy_or_flags_saturation(driver: str, lux: float) -> None:
    """Within the chip's accuracy (or one count) where it reaches; a flagged lower bound where it does not."""
    per_count, relative, top = LIGHT[driver]
    sensor, _ = on_bus(driver, Room(lux=lux))
    assert isinstance(sensor, LightSensor)
    sample = sensor.read_light()
    if lux > top:
        assert sample.saturated
        assert sample.lux <= lux
    else:
        assert not sample.saturated
        assert sample.lux == pytest.approx(lux, rel=relative, abs=per_count * 1.5)
    assert sample.raw_counts


def test_veml7700_beyond_its_range_is_a_lower_bound() -> None:
    """200 klx exceeds the VEML7700's 120 klx: reported saturated at its range limit."""
    sensor, _ = on_bus("veml7700", Room(lux=200_000.0))
    assert isinstance(sensor, LightSensor)
    sample = sensor.read_light()
    assert sample.saturated
    assert sample.lux == 120_000.0


@pytest.mark.parametrize("driver", sorted(THERMO))
@pytest.mark.parametrize("celsius", [-20.0, 0.0, 4.0, 8.0, 40.0], ids=lambda c: f"{c:g}C")
def test_thermometer_reads_within_accuracy(driver: str, celsius: float) -> None:
    """−20 to 40 °C within each chip's stated accuracy; the SHT4x adds relative humidity."""
    sensor, _ = on_bus(driver, Room(celsius=celsius, rh=55.0))
    assert isinstance(sensor, TemperatureSensor)
    sample = sensor.read_temperature()
    assert sample.celsius == pytest.approx(celsius, abs=THERMO[driver])
    if driver == "sht4x":
        assert sample.relative_humidity_percent == pytest.approx(55.0, abs=1.8)


def test_sht4x_bad_crc_is_a_fault_not_a_value() -> None:
    """A corrupted transfer fails the driver's CRC check: unavailable once, then good again."""
    room = Room(celsius=5.0)
    chip = Sht4xChip(room, lambda: 0.0)
    sensor = build_sensor("sht4x", EmulatedI2C({0x44: chip}), 0x44)
    assert isinstance(sensor, TemperatureSensor)
    chip.corrupt_next = 1
    with pytest.raises(SensorUnavailable, match="Invalid CRC"):
        sensor.read_temperature()
    assert sensor.read_temperature().celsius == pytest.approx(5.0, abs=0.2)


def test_sensirion_crc_vector() -> None:
    """The datasheet's example: CRC-8 of 0xBEEF is 0x92."""
    assert sensirion_crc8(b"\xbe\xef") == 0x92


@pytest.mark.parametrize("driver", ["veml7700", "bh1750", "sht4x", "pct2075"])
def test_every_chip_absent_or_failing_is_unavailable(driver: str) -> None:
    """No chip at start, or EIO mid-run: SensorUnavailable naming the chip, for every driver."""
    address = DRIVERS[driver].default_place
    with pytest.raises(SensorUnavailable, match="not found"):
        build_sensor(driver, EmulatedI2C(), address)  # type: ignore[arg-type]
    sensor, bus = on_bus(driver, Room(lux=50.0))
    bus.inject(address, "eio")  # type: ignore[arg-type]
    read = sensor.read_light if isinstance(sensor, LightSensor) else sensor.read_temperature
    with pytest.raises(SensorUnavailable, match="Input/output error"):
        read()
