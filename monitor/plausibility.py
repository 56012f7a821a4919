"""What a reading can be: each chip's range and each quantity's, defined once, each figure with its source.

A value outside its range cannot have come from the chip, whatever its frame's CRC says (a CRC-16 lets about
one corrupted line in 65,536 through), and one such value is enough to make a location's dose astronomical
or the mean kinetic temperature read absolute zero. So every entry refuses it: the serial source (by the chip
the microcontroller's hello names), the acquisition loop for the directly read drivers and the simulated
twins, and the engine for whatever reaches it otherwise (a spool replayed after a crash). A refused reading
becomes an ``out-of-range`` fault of its sensor, the kind :class:`hardware.errors.SensorOutOfRange` has.

The chip's maximum illuminance is the ceiling its host driver treats as physical (it raises or clips past
it, ``hardware/drivers/``): every reading a driver returns passes this table. A quantity's range is the
union of its chips' ranges: what any sensor vialguard can read may report. Gains and integration times are
the settings the chip has (its register table); a serial frame or driver reporting another one is refused.
Calibration (``corrected = gain · raw + offset``) applies after the chip, so a directly read sensor's range
is checked on the raw value recovered from its calibration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.model.quantities import Quantity

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

OUT_OF_RANGE = "out-of-range"  # the fault kind, as the hardware layer and the firmware name it
ABSOLUTE_ZERO_CELSIUS = -273.15
_SETTING_TOLERANCE = 1e-6  # relative: a gain sent as text with six significant digits still matches


@dataclass(frozen=True, slots=True)
class Span:
    """An inclusive interval of finite values."""

    low: float
    high: float

    def holds(self, value: float) -> bool:
        return math.isfinite(value) and self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class ChipRange:
    """What one chip can report; ``source`` says where each figure comes from."""

    chip: str
    quantity: Quantity
    value: Span  # lux, or °C
    source: str
    gains: tuple[float, ...] = ()  # the chip's gain settings; empty: the chip reports none
    integration_ms: tuple[float, ...] | Span = ()  # its integration times (a set, or a continuous span)
    humidity: bool = False  # reports relative humidity (0-100 % by definition)


def _as7341_gains() -> tuple[float, ...]:
    return tuple(0.5 * 2**n for n in range(11))


CHIPS: tuple[ChipRange, ...] = (
    ChipRange(
        "tsl2591",
        "light",
        Span(0.0, 132_000.0),
        "ams TSL2591 datasheet: 188 µlx to 88 klx; hardware/drivers/tsl2591.py and the firmware's probe"
        " refuse past 1.5 × 88 klx (the margin is an ASSUMPTION of those drivers: at 1×, 100 ms the"
        " conversion can reach 36863 · 408 / 100 ≈ 150 klx). Gains 1, 25, 428, 9876 and 100-600 ms:"
        " datasheet CONTROL register, as Adafruit's driver sets them",
        gains=(1.0, 25.0, 428.0, 9876.0),
        integration_ms=(100.0, 200.0, 300.0, 400.0, 500.0, 600.0),
    ),
    ChipRange(
        "veml7700",
        "light",
        Span(0.0, 120_000.0),
        "Vishay VEML7700 datasheet: 0 to 120 klx (hardware/drivers/veml7700.py clips to it); gains 1/8, 1/4,"
        " 1, 2 and 25-800 ms: datasheet ALS_CONF register",
        gains=(0.125, 0.25, 1.0, 2.0),
        integration_ms=(25.0, 50.0, 100.0, 200.0, 400.0, 800.0),
    ),
    ChipRange(
        "bh1750",
        "light",
        Span(0.0, 65_535 / 1.2),
        "ROHM BH1750FVI datasheet: 16-bit count, 1.2 counts per lx in H-resolution mode at the default"
        " MTreg, so 54.6 klx at the driver's least sensitive setting; 'gain' is counts per (lx · 1.2):"
        " 1 in H-resolution mode, 2 in mode 2; 120 ms typical measurement time",
        gains=(1.0, 2.0),
        integration_ms=(120.0,),
    ),
    ChipRange(
        "ltr390",
        "light",
        Span(0.0, 157_000.0 * 1.5),
        "Lite-On LTR-390UV-01 datasheet: lux = 0.6 · ALS / (gain · int_factor), 0.6 · 65535 / 0.25 ≈ 157 klx"
        " at the driver's least sensitive setting; hardware/drivers/ltr390.py refuses past 1.5 × that (an"
        " ASSUMED margin, for the window factor and calibration). Gains 1, 3, 6, 9, 18 and 12.5-400 ms:"
        " datasheet GAIN and MEAS_RATE registers",
        gains=(1.0, 3.0, 6.0, 9.0, 18.0),
        integration_ms=(12.5, 25.0, 50.0, 100.0, 200.0, 400.0),
    ),
    ChipRange(
        "as7341",
        "light",
        Span(0.0, 157_000.0 * 1.5),
        "ASSUMPTION: the AS7341 has no rated illuminance range (its lux is an estimate on an assumed"
        " responsivity, hardware/chips/as7341.py): the widest ceiling of the other light chips. Gains"
        " 0.5 · 2^n, n = 0..10, and (ATIME+1)(ASTEP+1) · 2.78 µs up to 256 · 65536 steps: ams AS7341"
        " datasheet DS000504, CFG1 and ATIME/ASTEP registers",
        gains=_as7341_gains(),
        integration_ms=Span(2.78e-3, 256 * 65_536 * 2.78e-3),
    ),
    ChipRange("ds18b20", "temperature", Span(-55.0, 125.0), "Maxim DS18B20 datasheet: -55 to +125 °C"),
    ChipRange("mcp9808", "temperature", Span(-40.0, 125.0), "Microchip MCP9808 datasheet: -40 to +125 °C"),
    ChipRange("pct2075", "temperature", Span(-55.0, 125.0), "NXP PCT2075 datasheet: -55 to +125 °C"),
    ChipRange(
        "sht4x",
        "temperature",
        Span(-40.0, 125.0),
        "Sensirion SHT4x datasheet: -40 to +125 °C, 0-100 %RH",
        humidity=True,
    ),
)
RANGES: dict[str, ChipRange] = {c.chip: c for c in CHIPS}


def _union(quantity: Quantity) -> Span:
    spans = [c.value for c in CHIPS if c.quantity == quantity]
    return Span(min(s.low for s in spans), max(s.high for s in spans))


# What any sensor of the quantity may report: the union of its chips' ranges (a simulated twin, a serial
# board's unknown chip and a stored reading are held to it).
QUANTITY_RANGES: dict[Quantity, Span] = {q: _union(q) for q in ("light", "temperature")}
HUMIDITY = Span(0.0, 100.0)  # relative humidity, by definition


@dataclass(frozen=True, slots=True)
class Limits:
    """The range one sensor's readings are held to: its chip's (or, unknown, its quantity's) through its
    calibration."""

    quantity: Quantity
    chip: ChipRange | None = None
    calibration_gain: float = 1.0
    calibration_offset: float = 0.0

    @staticmethod
    def of(
        driver: str, quantity: Quantity, calibration_gain: float = 1.0, calibration_offset: float = 0.0
    ) -> Limits:
        """The limits of a sensor read by ``driver``; a driver not in the table (``simulated``, ``serial``)
        or of another quantity is held to the quantity's range."""
        chip = RANGES.get(driver)
        if chip is not None and chip.quantity != quantity:
            chip = None
        return Limits(quantity, chip, calibration_gain, calibration_offset)

    @property
    def span(self) -> Span:
        return self.chip.value if self.chip is not None else QUANTITY_RANGES[self.quantity]

    def _what(self) -> str:
        return f"the {self.chip.chip}'s range" if self.chip is not None else f"any {self.quantity} sensor's"

    def _value(self, value: float, unit: str) -> str | None:
        if not math.isfinite(value):
            return f"{value} {unit} is not a finite number"
        raw = (value - self.calibration_offset) / self.calibration_gain
        span = self.span
        if not span.holds(raw):
            calibrated = "" if raw == value else f" (uncalibrated {raw:.6g} {unit})"
            return f"{value:.6g} {unit}{calibrated} is outside {self._what()}, {span.low:g} to {span.high:g}"
        return None

    def light(self, lux: float, gain: float | None, integration_ms: float | None) -> str | None:
        """Why this light reading cannot be true, or ``None`` when it can."""
        problem = self._value(lux, "lx")
        if problem is not None:
            return problem
        chip = self.chip
        for name, setting, known in (
            ("gain", gain, chip.gains if chip is not None else ()),
            ("integration time", integration_ms, chip.integration_ms if chip is not None else ()),
        ):
            if setting is None:
                continue
            if not math.isfinite(setting) or setting <= 0:
                return f"{name} {setting:g} is not a positive number"
            if not _known_setting(setting, known):
                return f"{name} {setting:g} is not a setting of the {chip.chip if chip else 'chip'}"
        return None

    def temperature(self, celsius: float, relative_humidity_percent: float | None) -> str | None:
        """Why this temperature reading cannot be true, or ``None`` when it can."""
        problem = self._value(celsius, "°C")
        if problem is not None:
            return problem
        rh = relative_humidity_percent
        if rh is not None and not HUMIDITY.holds(rh):
            return f"relative humidity {rh:g} % is outside 0 to 100 %"
        return None


def _known_setting(value: float, known: tuple[float, ...] | Span) -> bool:
    if isinstance(known, Span):
        return known.holds(value)
    if not known:
        return True  # the chip's settings are not tabled: any positive value
    return any(math.isclose(value, k, rel_tol=_SETTING_TOLERANCE) for k in known)


def possible_mask(quantity: Quantity, values: FloatArray, *settings: FloatArray) -> BoolArray:
    """Which readings any sensor of ``quantity`` could report, at once for a batch: the value within the
    quantity's range, each of ``settings`` (gain and integration time, or humidity) possible. A missing
    setting is passed as a value that passes (1.0, or 50 % humidity). The same as :class:`Limits` without
    a chip, vectorised: a batch of 20,000 readings checked one by one took 40 ms here."""
    span = QUANTITY_RANGES[quantity]
    ok: BoolArray = np.isfinite(values) & (values >= span.low) & (values <= span.high)
    for setting in settings:
        if quantity == "light":
            ok &= np.isfinite(setting) & (setting > 0)
        else:
            ok &= np.isfinite(setting) & (setting >= HUMIDITY.low) & (setting <= HUMIDITY.high)
    return ok


def physically_possible_light(lux: float) -> bool:
    """What a stored light reading must be: finite and within any light chip's range."""
    return QUANTITY_RANGES["light"].holds(lux)


def physically_possible_celsius(celsius: float) -> bool:
    """What a stored temperature must be: finite and within any probe's range."""
    return QUANTITY_RANGES["temperature"].holds(celsius)
