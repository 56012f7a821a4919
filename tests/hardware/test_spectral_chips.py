"""LTR390 (lux and UV) and AS7341 (spectral) through their genuine drivers on emulated chips."""

from __future__ import annotations

import adafruit_as7341
import adafruit_ltr390
import pytest

from hardware import spectra
from hardware.calibration import Calibration
from hardware.chips.as7341 import As7341Chip
from hardware.chips.ltr390 import Ltr390Chip
from hardware.drivers.as7341 import CHANNELS, As7341Sensor
from hardware.drivers.ltr390 import Ltr390Sensor
from hardware.environment import Conditions
from hardware.errors import SensorFrozen, SensorOutOfRange, SensorUnavailable
from hardware.i2c_emulator import EmulatedI2C
from hardware.registry import DRIVERS, build_sensor, emulated_buses
from hardware.sensor import LightSensor

LUXES = [0.01, 1.0, 100.0, 10_000.0, 80_000.0]
LAMPS = sorted(spectra.LAMP_SOURCES)


class Room:
    def __init__(self, lux: float = 0.0, lamp: str = "led-4000k") -> None:
        self.lux, self.lamp = lux, lamp

    def conditions(self, wall_seconds: float) -> Conditions:
        return Conditions(lux=self.lux, celsius=4.0, lamp=self.lamp)


def ltr390(room: Room) -> tuple[Ltr390Sensor, Ltr390Chip, EmulatedI2C]:
    chip = Ltr390Chip(room, lambda: 0.0, seed=3)
    bus = EmulatedI2C({0x53: chip})
    return Ltr390Sensor(bus), chip, bus


def as7341(room: Room) -> tuple[As7341Sensor, As7341Chip, EmulatedI2C]:
    chip = As7341Chip(room, lambda: 0.0, seed=3)
    bus = EmulatedI2C({0x39: chip})
    return As7341Sensor(bus), chip, bus


# -- LTR390 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lux", LUXES, ids=lambda x: f"{x:g}lx")
def test_ltr390_lux_within_accuracy(lux: float) -> None:
    """0.01 lx to 80 klx within 3 % or 1.5 counts at its most sensitive setting (0.0083 lx per count)."""
    sensor, _, _ = ltr390(Room(lux))
    sample = sensor.read_light()
    assert not sample.saturated
    assert sample.lux == pytest.approx(lux, rel=0.03, abs=1.5 * 0.6 / (18 * 4))
    assert sample.raw_counts
    assert sample.gain
    assert sample.integration_ms


def test_ltr390_beyond_its_range_is_a_flagged_lower_bound() -> None:
    """200 klx overflows the ALS at gain 1x: saturated, lux at most the truth."""
    sample = ltr390(Room(200_000.0))[0].read_light()
    assert sample.saturated
    assert 150_000.0 < sample.lux <= 200_000.0


@pytest.mark.parametrize(
    ("lamp", "per_klx"),
    [("daylight-window", 0.54), ("indoor-daylight", 0.36), ("incandescent", 0.08)],
    ids=["D65", "ID65", "A"],
)
@pytest.mark.parametrize("lux", [100.0, 1000.0, 50_000.0], ids=lambda x: f"{x:g}lx")
def test_ltr390_near_uv_estimate_matches_the_lamp(lamp: str, per_klx: float, lux: float) -> None:
    """The UV channel's estimate of 300-400 nm irradiance is the §6 table's W/m² per klx, within 8 %
    or 1.5 counts at its most sensitive setting."""
    spectrum = ltr390(Room(lux, lamp))[0].read_light().spectrum
    assert spectrum is not None
    assert spectrum.chip == "ltr390"
    assert spectrum.channels == ("uvs",)
    assert spectrum.near_uv_w_per_m2 == pytest.approx(per_klx * lux / 1000.0, rel=0.08, abs=1.5 * 5 / 2300)


def test_ltr390_white_led_has_no_near_uv() -> None:
    """A white LED (CIE LED-B3, nothing below 380 nm in §6) gives under 1 mW/m² of near-UV at 500 lx."""
    spectrum = ltr390(Room(500.0, "led-4000k"))[0].read_light().spectrum
    assert spectrum is not None
    assert spectrum.near_uv_w_per_m2 is not None
    assert spectrum.near_uv_w_per_m2 < 1e-3


def test_ltr390_genuine_driver_properties_read_the_emulator() -> None:
    """The driver's own ``lux`` and ``uvi`` properties agree with the environment (its formulas, inverted)."""
    bus = EmulatedI2C({0x53: Ltr390Chip(Room(1000.0, "daylight-window"), lambda: 0.0)})
    dev = adafruit_ltr390.LTR390(bus)
    dev.gain = adafruit_ltr390.Gain.GAIN_3X
    dev.resolution = adafruit_ltr390.Resolution.RESOLUTION_18BIT
    assert dev.lux == pytest.approx(1000.0, rel=0.03)
    assert dev.uvi * 5.0 == pytest.approx(0.54, rel=0.08)


def test_ltr390_value_beyond_any_physical_lux_is_out_of_range() -> None:
    """A calibration that puts 150 klx at 300 klx (beyond the chip's 157 klx, with margin) is refused."""
    chip = Ltr390Chip(Room(150_000.0), lambda: 0.0)
    sensor = Ltr390Sensor(EmulatedI2C({0x53: chip}), calibration=Calibration(gain=2.0))
    with pytest.raises(SensorOutOfRange, match="beyond its range"):
        sensor.read_light()


def test_ltr390_frozen_counts_are_detected() -> None:
    """Identical non-zero counts read after read become SensorFrozen."""
    sensor, chip, _ = ltr390(Room(300.0))
    chip.frozen_counts = 4000
    for _ in range(30):
        sensor.read_light()
    with pytest.raises(SensorFrozen, match="LTR390"):
        sensor.read_light()


# -- AS7341 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lamp", ["led-4000k", "fluorescent", "daylight-window", "incandescent"])
@pytest.mark.parametrize("lux", [1.0, 100.0, 10_000.0], ids=lambda x: f"{x:g}lx")
def test_as7341_lux_estimate_within_accuracy(lamp: str, lux: float) -> None:
    """Lux from the eight filter channels is within 3 % of the truth under each §6 source."""
    sample = as7341(Room(lux, lamp))[0].read_light()
    assert not sample.saturated
    assert sample.lux == pytest.approx(lux, rel=0.03)
    assert sample.spectrum is not None
    assert sample.spectrum.channels == CHANNELS
    assert len(sample.spectrum.counts) == 10


def test_as7341_dim_light_within_a_few_counts() -> None:
    """0.01 lx at 512x: the estimate is within 0.006 lx (the count noise of eight channels)."""
    sample = as7341(Room(0.01))[0].read_light()
    assert sample.gain == 512.0
    assert sample.lux == pytest.approx(0.01, abs=0.006)


def test_as7341_ranges_down_and_flags_saturation_at_half_gain() -> None:
    """Bright light steps the gain down; beyond 0.5x a full-scale filter count is saturated."""
    bright = as7341(Room(10_000.0))[0].read_light()
    assert bright.gain is not None
    assert bright.gain < 128.0  # below the driver's start
    assert not bright.saturated
    sample = as7341(Room(500_000.0))[0].read_light()
    assert sample.gain == 0.5
    assert sample.saturated
    assert sample.spectrum is not None
    assert sample.spectrum.saturated


def test_as7341_smux_routes_the_channels_the_driver_asks_for() -> None:
    """Incandescent light is red-heavy and daylight blue-heavy: F8/F1 through the genuine driver shows it."""

    def red_over_blue(lamp: str) -> float:
        dev = adafruit_as7341.AS7341(EmulatedI2C({0x39: As7341Chip(Room(200.0, lamp), lambda: 0.0)}))
        return float(dev.channel_680nm) / float(dev.channel_415nm)

    assert red_over_blue("incandescent") > 4.0 * red_over_blue("daylight-window")


def test_as7341_frozen_counts_are_detected() -> None:
    """Six ADCs stuck at one value: SensorFrozen after the repeat limit."""
    sensor, chip, _ = as7341(Room(300.0))
    chip.frozen_counts = (900, 800, 700, 600, 500, 400)
    for _ in range(30):
        sensor.read_light()
    with pytest.raises(SensorFrozen, match="AS7341"):
        sensor.read_light()


@pytest.mark.parametrize("driver", ["ltr390", "as7341"])
def test_stalled_chip_is_unavailable_not_a_hang_then_recovers(driver: str) -> None:
    """A chip whose conversion never completes (the driver polls without a limit) fails within its wait
    limit as SensorUnavailable, and reads again once it converts."""
    sensor, chip, _ = ltr390(Room(300.0)) if driver == "ltr390" else as7341(Room(300.0))
    chip.stalled = True
    with pytest.raises(SensorUnavailable, match="no conversion ready within 2 s"):
        sensor.read_light()
    chip.stalled = False
    assert sensor.read_light().lux == pytest.approx(300.0, rel=0.03)


# -- both ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", ["ltr390", "as7341"])
@pytest.mark.parametrize(
    ("fault", "text"), [("eio", "Input/output error"), ("hang", "timed out"), ("absent", "Remote I/O")]
)
def test_spectral_chip_faults_are_unavailable_then_recover(driver: str, fault: str, text: str) -> None:
    """Absent at start, then EIO, a hung bus or a NACK mid-run: SensorUnavailable; cleared, reads resume."""
    address = DRIVERS[driver].default_place
    assert isinstance(address, int)
    with pytest.raises(SensorUnavailable, match="not found"):
        build_sensor(driver, EmulatedI2C(), address)
    bus, _ = emulated_buses([(driver, address)], Room(300.0), lambda: 0.0)
    sensor = build_sensor(driver, bus, address)
    assert isinstance(sensor, LightSensor)
    bus.inject(address, fault)  # type: ignore[arg-type]
    with pytest.raises(SensorUnavailable, match=text):
        sensor.read_light()
    bus.clear(address)
    assert sensor.read_light().lux == pytest.approx(300.0, rel=0.03)


def test_scan_finds_the_spectral_chips_at_their_addresses() -> None:
    """The LTR390 answers at 0x53 and the AS7341 at 0x39 on the emulated bus."""
    bus, _ = emulated_buses([("ltr390", 0x53), ("as7341", 0x39)], Room(), lambda: 0.0)
    assert bus.scan() == [0x39, 0x53]
