"""What every I2C thermometer class shares: error translation, range check, frozen detection, calibration."""

from __future__ import annotations

from collections.abc import Callable

from hardware.calibration import Calibration
from hardware.drivers.frozen import FrozenDetector
from hardware.errors import SensorOutOfRange, SensorUnavailable
from hardware.sensor import TemperatureSample


class I2cThermometer:
    """Subclasses set ``model``, ``label``, the chip's range and ``_open``/``_measure``."""

    model = ""
    label = ""
    default_address = 0
    min_celsius = -40.0
    max_celsius = 125.0
    resolution_celsius = 0.0625

    def __init__(
        self, i2c: object, address: int | None = None, calibration: Calibration | None = None
    ) -> None:
        address = self.default_address if address is None else address
        self._bus = i2c
        self._address = address
        self._calibration = calibration or Calibration()
        # A fridge at equilibrium can hold one quantised value for minutes: allow long identical runs.
        self._frozen = FrozenDetector(f"{self.label} at 0x{address:02x}", repeats=360, noise_floor=-1)
        try:
            self._dev = self._open(i2c, address)
        except (OSError, ValueError, RuntimeError) as exc:
            raise SensorUnavailable(f"{self.label} at 0x{address:02x} not found: {exc}") from exc

    def _open(self, i2c: object, address: int) -> object:
        raise NotImplementedError

    def _measure(self) -> tuple[float, float | None]:
        """(°C, relative humidity % or None) from the driver."""
        raise NotImplementedError

    def _guarded(self, call: Callable[[], tuple[float, float | None]]) -> tuple[float, float | None]:
        try:
            return call()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a driver's CRC check failed
            raise SensorUnavailable(f"{self.label} at 0x{self._address:02x}: {exc}") from exc

    def read_temperature(self) -> TemperatureSample:
        celsius, humidity = self._guarded(self._measure)
        if not self.min_celsius <= celsius <= self.max_celsius:
            raise SensorOutOfRange(
                f"{self.label} at 0x{self._address:02x}: {celsius:.2f} °C is outside its range"
            )
        self._frozen.check((round(celsius / self.resolution_celsius),))
        return TemperatureSample(celsius=self._calibration.apply(celsius), relative_humidity_percent=humidity)
