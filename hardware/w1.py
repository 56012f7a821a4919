"""DS18B20 1-Wire temperature probes through the Linux w1 sysfs, and the buses that serve those files.

The kernel's ``w1_therm`` driver exposes each probe as ``/sys/bus/w1/devices/28-<id>/``: newer kernels have
``temperature`` (millidegrees), every kernel has ``w1_slave``, two lines::

    72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
    72 01 4b 46 7f ff 0e 10 57 t=23125

A line ending ``NO`` is a failed CRC (a noisy bus, a long cable through the fridge gasket). 85.0 °C is the
chip's power-on register value: read back, it means no conversion happened (often brown-out on parasite
power), so it is refused as suspect rather than stored as a temperature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from hardware.calibration import Calibration
from hardware.errors import SensorOutOfRange, SensorUnavailable
from hardware.sensor import TemperatureSample

SYSFS_ROOT = Path("/sys/bus/w1/devices")
POWER_ON_MILLIDEGREES = 85_000
# DS18B20 datasheet measuring range.
MIN_CELSIUS, MAX_CELSIUS = -55.0, 125.0


class W1Bus(Protocol):
    def devices(self) -> list[str]:
        """Device ids present, e.g. ``28-0316a2791aff``."""
        ...

    def read_text(self, device_id: str, name: str) -> str:
        """The text of one sysfs attribute of a device; ``OSError`` when it cannot be read."""
        ...


class SysfsW1:
    """The kernel's w1 devices under ``root`` (``/sys/bus/w1/devices``)."""

    def __init__(self, root: Path = SYSFS_ROOT) -> None:
        self.root = root

    def devices(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.glob("28-*"))

    def read_text(self, device_id: str, name: str) -> str:
        return (self.root / device_id / name).read_text(encoding="ascii")


def parse_w1_slave(text: str) -> int:
    """Millidegrees from a ``w1_slave`` text; :class:`SensorUnavailable` on a failed CRC or garbage."""
    lines = text.strip().splitlines()
    if len(lines) < 2 or not lines[0].rstrip().endswith(("YES", "NO")):
        raise SensorUnavailable(f"unreadable w1_slave contents: {text.strip()[:80]!r}")
    if not lines[0].rstrip().endswith("YES"):
        raise SensorUnavailable("1-Wire CRC check failed")
    _, sep, value = lines[1].rpartition("t=")
    if not sep:
        raise SensorUnavailable(f"no temperature in w1_slave: {lines[1][:80]!r}")
    try:
        return int(value.strip())
    except ValueError as exc:
        raise SensorUnavailable(f"bad temperature {value.strip()!r} in w1_slave") from exc


class Ds18b20Sensor:
    model = "ds18b20"

    def __init__(self, bus: W1Bus, device_id: str, calibration: Calibration | None = None) -> None:
        self._bus = bus
        self._id = device_id
        self._calibration = calibration or Calibration()
        if device_id not in bus.devices():
            raise SensorUnavailable(f"DS18B20 {device_id} not found on the 1-Wire bus")

    def read_temperature(self) -> TemperatureSample:
        try:
            millidegrees = parse_w1_slave(self._bus.read_text(self._id, "w1_slave"))
        except OSError as exc:
            raise SensorUnavailable(f"DS18B20 {self._id}: {exc.strerror or exc}") from exc
        if millidegrees == POWER_ON_MILLIDEGREES:
            raise SensorOutOfRange(f"DS18B20 {self._id}: 85.0 °C power-on value, no conversion took place")
        celsius = millidegrees / 1000.0
        if not MIN_CELSIUS <= celsius <= MAX_CELSIUS:
            raise SensorOutOfRange(f"DS18B20 {self._id}: {celsius:.3f} °C is outside its range")
        return TemperatureSample(celsius=self._calibration.apply(celsius))
