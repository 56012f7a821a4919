"""The table of what each chip can report agrees with the drivers that read the chips, and refuses the
impossible: non-finite values, settings a chip does not have, values beyond its range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware.drivers import bh1750, ltr390, tsl2591, veml7700
from hardware.drivers.mcp9808 import Mcp9808Sensor
from hardware.drivers.pct2075 import Pct2075Sensor
from hardware.drivers.sht4x import Sht4xSensor
from hardware.registry import DRIVERS
from hardware.w1 import MAX_CELSIUS, MIN_CELSIUS
from monitor.plausibility import QUANTITY_RANGES, RANGES, Limits, possible_mask


def test_every_driver_has_a_row_of_its_quantity() -> None:
    """Adding a chip driver without its range fails here: every driver's readings are held to a range."""
    assert set(RANGES) == set(DRIVERS)
    assert all(RANGES[name].quantity == spec.quantity for name, spec in DRIVERS.items())


def test_the_table_agrees_with_each_drivers_own_ceiling_and_settings() -> None:
    """A reading a driver returns is never refused by the table: ceilings, gains and times match."""
    assert RANGES["tsl2591"].value.high == tsl2591.MAX_LUX
    assert RANGES["veml7700"].value.high == veml7700.MAX_LUX
    assert RANGES["ltr390"].value.high == ltr390.MAX_LUX
    assert RANGES["bh1750"].value.high == pytest.approx(bh1750.MAX_COUNTS / 1.2)
    ladders = {
        "tsl2591": [(g, ms) for _, g, _, ms in tsl2591.LADDER],
        "veml7700": [(g, ms) for _, g, _, ms in veml7700.LADDER],
        "ltr390": [
            (ltr390._gain(i), ltr390.INTEGRATION_MS[ltr390._bits(i)]) for i in range(len(ltr390.LADDER))
        ],
        "bh1750": [(g, 120.0) for _, g in bh1750.LADDER],
    }
    for chip, ladder in ladders.items():
        for gain, ms in ladder:
            assert Limits.of(chip, "light").light(1.0, gain, ms) is None, (chip, gain, ms)
    for cls in (Mcp9808Sensor, Pct2075Sensor, Sht4xSensor):
        span = RANGES[cls.model].value
        assert (span.low, span.high) == (cls.min_celsius, cls.max_celsius)
    assert (RANGES["ds18b20"].value.low, RANGES["ds18b20"].value.high) == (MIN_CELSIUS, MAX_CELSIUS)


@pytest.mark.parametrize(
    "lux", [math.nan, math.inf, -math.inf, -0.5, 1e30], ids=["nan", "inf", "-inf", "negative", "huge"]
)
def test_impossible_lux_is_refused_for_every_light_sensor(lux: float) -> None:
    """Whatever the driver (a chip, the simulated twin, an unknown serial chip), these are refused."""
    for driver in ("tsl2591", "as7341", "simulated", "serial", "no-such-chip"):
        assert Limits.of(driver, "light").light(lux, None, None) is not None


def test_a_calibrated_reading_is_checked_on_its_raw_value() -> None:
    """A gain-1.2 calibration may lift a full-scale reading past the chip's ceiling: still possible."""
    high = RANGES["veml7700"].value.high
    assert Limits.of("veml7700", "light").light(high * 1.1, None, None) is not None
    assert Limits.of("veml7700", "light", 1.2, 0.0).light(high * 1.1, None, None) is None


def test_a_quantitys_range_is_the_union_of_its_chips() -> None:
    """A probe of the quantity, whichever, may report it: -55 to 125 °C; below absolute zero never."""
    assert (QUANTITY_RANGES["temperature"].low, QUANTITY_RANGES["temperature"].high) == (-55.0, 125.0)
    assert Limits.of("simulated", "temperature").temperature(-300.0, None) is not None
    assert Limits.of("simulated", "temperature").temperature(4.0, -1.0) is not None
    assert Limits.of("simulated", "temperature").temperature(4.0, 55.0) is None


def test_the_batch_mask_agrees_with_the_one_by_one_check() -> None:
    """The engine's vectorised screen refuses exactly what Limits refuses for a sensor of no known chip."""
    lux = [0.0, 12.0, -1.0, math.nan, math.inf, 235_500.0, 235_501.0, 50.0, 50.0]
    gain = [1.0, 25.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, math.nan]
    limits = Limits.of("serial", "light")
    mask = possible_mask("light", np.array(lux), np.array(gain), np.ones(len(lux)))
    assert mask.tolist() == [limits.light(x, g, 1.0) is None for x, g in zip(lux, gain, strict=True)]
    celsius = [4.0, -55.0, 125.0, 125.5, -273.15, -300.0, math.nan, 4.0, 4.0]
    rh = [50.0, 0.0, 100.0, 50.0, 50.0, 50.0, 50.0, 100.5, -0.1]
    limits = Limits.of("simulated", "temperature")
    mask = possible_mask("temperature", np.array(celsius), np.array(rh))
    assert mask.tolist() == [limits.temperature(c, h) is None for c, h in zip(celsius, rh, strict=True)]
