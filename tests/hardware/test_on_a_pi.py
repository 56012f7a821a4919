"""On a Raspberry Pi with the sensors wired (VIALGUARD_HARDWARE=1): the real buses and chips answer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hardware.bus import open_i2c_bus
from hardware.registry import build_sensor
from hardware.sensor import LightSensor, TemperatureSensor
from hardware.w1 import Ds18b20Sensor, SysfsW1

pytestmark = pytest.mark.hardware


def test_configured_i2c_chip_answers() -> None:
    """The chip named by VIALGUARD_HW_DRIVER (default tsl2591) reads a plausible value on /dev/i2c-1."""
    driver = os.environ.get("VIALGUARD_HW_DRIVER", "tsl2591")
    address = int(os.environ.get("VIALGUARD_HW_ADDRESS", "0x29"), 0)
    sensor = build_sensor(driver, open_i2c_bus(1), address)
    if isinstance(sensor, LightSensor):
        assert 0.0 <= sensor.read_light().lux <= 120_000.0
    else:
        assert isinstance(sensor, TemperatureSensor)
        assert -40.0 <= sensor.read_temperature().celsius <= 60.0


def test_every_w1_probe_reads() -> None:
    """Each DS18B20 under /sys/bus/w1/devices gives a temperature."""
    bus = SysfsW1(Path("/sys/bus/w1/devices"))
    probes = bus.devices()
    assert probes, "no 1-Wire probe found: is dtoverlay=w1-gpio set?"
    for probe in probes:
        assert -55.0 <= Ds18b20Sensor(bus, probe).read_temperature().celsius <= 125.0
