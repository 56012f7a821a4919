"""DS18B20 probes through the w1 sysfs: a fake sysfs tree, failed CRCs, the 85.0 °C power-on value."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.chips.ds18b20 import Ds18b20Chip, EmulatedW1, dallas_crc8, w1_slave_text
from hardware.environment import Conditions
from hardware.errors import SensorOutOfRange, SensorUnavailable
from hardware.w1 import Ds18b20Sensor, SysfsW1, parse_w1_slave

PROBE = "28-0316a2791aff"
GOOD = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"


def sysfs(tmp_path: Path, text: str, device: str = PROBE) -> SysfsW1:
    (tmp_path / device).mkdir(parents=True, exist_ok=True)
    (tmp_path / device / "w1_slave").write_text(text, encoding="ascii")
    return SysfsW1(tmp_path)


def test_reads_a_probe_from_the_sysfs_tree(tmp_path: Path) -> None:
    """A w1_slave with a good CRC gives its t= value in degrees."""
    probe = Ds18b20Sensor(sysfs(tmp_path, GOOD), PROBE)
    assert probe.read_temperature().celsius == pytest.approx(23.125)


def test_failed_crc_is_unavailable_not_a_value(tmp_path: Path) -> None:
    """A line ending in NO (a corrupted transfer) is refused, not stored."""
    bus = sysfs(tmp_path, GOOD.replace("YES", "NO"))
    with pytest.raises(SensorUnavailable, match="CRC check failed"):
        Ds18b20Sensor(bus, PROBE).read_temperature()


def test_power_on_value_is_suspect(tmp_path: Path) -> None:
    """85.0 °C is the power-on register: no conversion happened, so it is refused as suspect."""
    bus = sysfs(tmp_path, "50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n")
    with pytest.raises(SensorOutOfRange, match="power-on value"):
        Ds18b20Sensor(bus, PROBE).read_temperature()


@pytest.mark.parametrize(
    "text",
    ["", "garbage\n", "72 01 : crc=57 YES\nno temperature here\n", "x : YES\nt=abc\n"],
    ids=["empty", "garbage", "no-t", "bad-number"],
)
def test_malformed_contents_are_unavailable(text: str) -> None:
    """Anything that is not the kernel's two lines raises SensorUnavailable naming the problem."""
    with pytest.raises(SensorUnavailable):
        parse_w1_slave(text)


def test_probe_missing_at_start_and_unplugged_mid_run(tmp_path: Path) -> None:
    """No device directory: unavailable at start; the file vanishing mid-run: unavailable, not a crash."""
    bus = sysfs(tmp_path, GOOD)
    with pytest.raises(SensorUnavailable, match="not found"):
        Ds18b20Sensor(bus, "28-000000000000")
    probe = Ds18b20Sensor(bus, PROBE)
    (tmp_path / PROBE / "w1_slave").unlink()
    with pytest.raises(SensorUnavailable, match="No such file"):
        probe.read_temperature()


def test_dallas_crc_matches_a_real_kernel_line() -> None:
    """The scratchpad CRC of a line read from a real probe is its ninth byte."""
    assert dallas_crc8(bytes.fromhex("72014b467fff0e10")) == 0x57
    assert w1_slave_text(0x0172).splitlines()[1].endswith("t=23125")


class Fixed:
    def __init__(self, celsius: float) -> None:
        self.celsius = celsius

    def conditions(self, wall_seconds: float) -> Conditions:
        return Conditions(lux=0.0, celsius=self.celsius)


@pytest.mark.parametrize("celsius", [-20.0, 0.0, 4.0, 8.0, 40.0], ids=lambda c: f"{c:g}C")
def test_emulated_probe_reads_the_environment_within_half_a_degree(celsius: float) -> None:
    """The emulated probe, through the sysfs text and its CRC, reads within the DS18B20's ±0.5 °C."""
    bus = EmulatedW1({PROBE: Ds18b20Chip(Fixed(celsius), lambda: 0.0)})
    assert Ds18b20Sensor(bus, PROBE).read_temperature().celsius == pytest.approx(celsius, abs=0.5)


def test_emulated_probe_corruption_and_recovery() -> None:
    """An injected bad CRC fails one read; the next one is good again."""
    chip = Ds18b20Chip(Fixed(4.0), lambda: 0.0)
    probe = Ds18b20Sensor(EmulatedW1({PROBE: chip}), PROBE)
    chip.corrupt_next = 1
    with pytest.raises(SensorUnavailable, match="CRC"):
        probe.read_temperature()
    assert probe.read_temperature().celsius == pytest.approx(4.0, abs=0.5)
