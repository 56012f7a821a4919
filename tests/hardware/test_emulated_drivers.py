"""The genuine Adafruit drivers reading emulated chips: accuracy over range, ranging, saturation, faults."""

from __future__ import annotations

import errno

import pytest

from hardware.chips.mcp9808 import Mcp9808Chip
from hardware.chips.tsl2591 import Tsl2591Chip
from hardware.drivers.mcp9808 import Mcp9808Sensor
from hardware.drivers.tsl2591 import Tsl2591Sensor
from hardware.environment import Conditions
from hardware.errors import SensorFrozen, SensorOutOfRange, SensorUnavailable
from hardware.i2c_emulator import EmulatedI2C
from hardware.registry import build_sensor, emulated_buses


class Room:
    """A settable environment."""

    def __init__(self, lux: float = 0.0, celsius: float = 4.0, ir_fraction: float = 0.08) -> None:
        self.lux, self.celsius, self.ir_fraction = lux, celsius, ir_fraction

    def conditions(self, wall_seconds: float) -> Conditions:
        return Conditions(lux=self.lux, celsius=self.celsius, ir_fraction=self.ir_fraction)


def light(room: Room) -> tuple[Tsl2591Sensor, Tsl2591Chip, EmulatedI2C]:
    chip = Tsl2591Chip(room, lambda: 0.0, seed=1)
    bus = EmulatedI2C({0x29: chip})
    return Tsl2591Sensor(bus), chip, bus


def thermometer(room: Room) -> tuple[Mcp9808Sensor, Mcp9808Chip, EmulatedI2C]:
    chip = Mcp9808Chip(room, lambda: 0.0, seed=1)
    bus = EmulatedI2C({0x18: chip})
    return Mcp9808Sensor(bus), chip, bus


@pytest.mark.parametrize("lux", [0.01, 1.0, 100.0, 10_000.0, 80_000.0], ids=lambda x: f"{x:g}lx")
@pytest.mark.parametrize("ir_fraction", [0.05, 0.2], ids=["led", "fluorescent-like"])
def test_tsl2591_reads_the_environment_within_accuracy(lux: float, ir_fraction: float) -> None:
    """Through the genuine driver, 0.01 lx to 80 klx comes back within 3 % (count noise, quantisation)."""
    room = Room(lux=lux, ir_fraction=ir_fraction)
    sensor, _, _ = light(room)
    sample = sensor.read_light()
    assert not sample.saturated
    assert sample.lux == pytest.approx(lux, rel=0.03)
    assert len(sample.raw_counts) == 2
    assert sample.gain is not None
    assert sample.integration_ms is not None


def test_tsl2591_auto_ranges_from_dark_to_bright_without_saturating() -> None:
    """A dark fridge at maximum sensitivity, then 800 lx: the next reading steps down and stays valid."""
    room = Room(lux=0.0)
    sensor, _, _ = light(room)
    dark = sensor.read_light()
    assert dark.gain == 9876.0
    assert dark.lux < 0.01
    room.lux = 800.0
    bright = sensor.read_light()
    assert not bright.saturated
    assert bright.lux == pytest.approx(800.0, rel=0.03)
    assert bright.gain is not None
    assert bright.gain < 9876.0


def test_high_infrared_share_lowers_the_ceiling_and_is_flagged() -> None:
    """Under a lamp with 30 % infrared, 80 klx overflows even at 1x/100 ms: flagged, never a plain number."""
    sensor, _, _ = light(Room(lux=80_000.0, ir_fraction=0.3))
    sample = sensor.read_light()
    assert sample.saturated
    assert sample.lux < 80_000.0


def test_tsl2591_overflow_at_least_sensitive_setting_is_a_flagged_lower_bound() -> None:
    """200 klx overflows even at 1x/100 ms: the sample is saturated and its lux is below the truth."""
    sensor, _, _ = light(Room(lux=200_000.0))
    sample = sensor.read_light()
    assert sample.saturated
    assert sample.lux < 200_000.0
    assert sample.raw_counts[0] == 36863


@pytest.mark.parametrize("celsius", [-20.0, -5.5, 0.0, 2.0, 4.3, 8.0, 25.0, 40.0], ids=lambda c: f"{c:g}C")
def test_mcp9808_reads_the_environment_within_a_quarter_degree(celsius: float) -> None:
    """Through the genuine driver, −20 to 40 °C comes back within the chip's ±0.25 °C."""
    sensor, _, _ = thermometer(Room(celsius=celsius))
    assert sensor.read_temperature().celsius == pytest.approx(celsius, abs=0.25)


def test_absent_chip_at_start_is_unavailable() -> None:
    """No chip at the address: construction raises SensorUnavailable naming the address."""
    with pytest.raises(SensorUnavailable, match="0x29 not found"):
        Tsl2591Sensor(EmulatedI2C())


@pytest.mark.parametrize(
    ("fault", "text"), [("eio", "Input/output error"), ("hang", "timed out"), ("absent", "Remote I/O")]
)
def test_bus_fault_mid_run_is_unavailable_then_recovers(fault: str, text: str) -> None:
    """EIO, a hung bus or a NACK mid-run raise SensorUnavailable; clearing the fault, reads resume."""
    room = Room(lux=300.0)
    sensor, _, bus = light(room)
    bus.inject(0x29, fault)  # type: ignore[arg-type]
    with pytest.raises(SensorUnavailable, match=text):
        sensor.read_light()
    bus.clear(0x29)
    assert sensor.read_light().lux == pytest.approx(300.0, rel=0.03)


def test_frozen_counts_are_detected() -> None:
    """Identical non-zero counts read after read become SensorFrozen."""
    sensor, chip, _ = light(Room(lux=300.0))
    sensor.read_light()
    chip.frozen_counts = (4000, 300)
    for _ in range(30):
        sensor.read_light()
    with pytest.raises(SensorFrozen, match="unchanged"):
        sensor.read_light()


def test_constant_darkness_is_not_frozen() -> None:
    """A dark fridge legitimately reads zero counts for ever: no frozen alarm."""
    sensor, chip, _ = light(Room(lux=0.0))
    chip.frozen_counts = (0, 0)
    for _ in range(100):
        assert sensor.read_light().lux == 0.0


def test_impossible_temperature_is_out_of_range() -> None:
    """A reading outside the MCP9808's −40 to 125 °C range is refused, not recorded."""
    sensor, chip, _ = thermometer(Room())
    chip.celsius_override = 200.0
    with pytest.raises(SensorOutOfRange, match="outside its range"):
        sensor.read_temperature()


def test_scan_lists_present_chips_and_nack_is_errno_121() -> None:
    """The emulated bus scans like i2c-dev and NACKs an empty address with EREMOTEIO."""
    bus, _ = emulated_buses([("tsl2591", 0x29), ("mcp9808", 0x19)], Room(), lambda: 0.0)
    assert bus.scan() == [0x19, 0x29]
    bus.inject(0x19, "absent")
    assert bus.scan() == [0x29]
    with pytest.raises(OSError, match="Remote I/O error") as info:
        bus.writeto(0x50, b"\x00")
    assert info.value.errno == errno.EREMOTEIO


def test_calibration_is_applied_after_conversion() -> None:
    """A configured offset and gain correct the driver's value."""
    from hardware.calibration import Calibration

    bus, _ = emulated_buses([("mcp9808", 0x18)], Room(celsius=4.0), lambda: 0.0)
    sensor = build_sensor("mcp9808", bus, 0x18, Calibration(offset=-0.5, gain=1.0))
    assert sensor.read_temperature().celsius == pytest.approx(3.5, abs=0.25)  # type: ignore[union-attr]
