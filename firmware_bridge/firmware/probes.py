"""Sensors on the microcontroller, read through the genuine Adafruit CircuitPython drivers.

A probe builds its driver lazily and drops it after a failed read, so an absent or unplugged chip is
probed again at its next due time and comes back by itself. A read returns ``(aux, value, a, b)``, the
fields of a ring record; a failure raises :class:`ProbeError` carrying the fault kind the host names.

The TSL2591 is auto-ranged here as on the host (``hardware/drivers/tsl2591.py``), with the conversion
constants of Adafruit's driver written out: CircuitPython strips the driver's underscore constants.
"""

FAULT_KINDS = ("unavailable", "out-of-range")


class ProbeError(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        Exception.__init__(self, detail)
        self.kind = kind
        self.code = FAULT_KINDS.index(kind)


# The Adafruit TSL2591 driver's lux conversion: CPL = ATIME_ms·AGAIN/408 (datasheet coefficients).
TSL2591_LUX_DF = 408.0
TSL2591_COEF_B = 1.64
TSL2591_COEF_C = 0.59
TSL2591_COEF_D = 0.86
TSL2591_MAX_COUNT_100MS = 36863
TSL2591_MAX_COUNT = 65535
LOW_COUNTS = 200
HIGH_FRACTION = 0.8
MAX_LUX = 88_000.0 * 1.5


def tsl2591_lux(c0: int, c1: int, gain: float, integration_ms: float) -> float:
    cpl = integration_ms * gain / TSL2591_LUX_DF
    lux1 = (c0 - TSL2591_COEF_B * c1) / cpl
    lux2 = (TSL2591_COEF_C * c0 - TSL2591_COEF_D * c1) / cpl
    return max(lux1, lux2, 0.0)


class Probe:
    """A sensor on the microcontroller; subclasses set the quantity and driver name."""

    quantity = ""
    driver = ""

    def __init__(self, i2c: object, address: int, settle: object = None) -> None:
        """``settle(seconds)`` waits for a fresh measurement after a range change (none when emulated)."""
        self._i2c = i2c
        self.address = address
        self._settle = settle
        self._dev: object = None

    def read(self) -> "tuple[int, float, int, int]":
        """``(aux, value, a, b)`` of one ring record; raises :class:`ProbeError`."""
        raise NotImplementedError

    def settings(self, aux: int) -> "tuple[float, float]":
        """``(gain, integration_ms)`` a light record's ``aux`` stands for."""
        return 1.0, 0.0


class Tsl2591Probe(Probe):
    quantity = "light"
    driver = "tsl2591"
    # (gain register, gain, integration register, ms), least to most sensitive
    LADDER = (
        (0x00, 1.0, 0x00, 100.0),
        (0x10, 25.0, 0x00, 100.0),
        (0x20, 428.0, 0x00, 100.0),
        (0x30, 9876.0, 0x01, 200.0),
        (0x30, 9876.0, 0x05, 600.0),
    )

    def __init__(self, i2c: object, address: int = 0x29, settle: object = None) -> None:
        Probe.__init__(self, i2c, address, settle)
        self._step = 1  # the driver starts at medium gain, 100 ms

    def settings(self, step: int) -> "tuple[float, float]":
        """``(gain, integration_ms)`` of a ladder step, for the frame."""
        return self.LADDER[step][1], self.LADDER[step][3]

    def _apply(self, step: int) -> None:
        gain_reg, _, it_reg, integration_ms = self.LADDER[step]
        self._dev.gain = gain_reg  # type: ignore[attr-defined]
        self._dev.integration_time = it_reg  # type: ignore[attr-defined]
        self._step = step
        if self._settle is not None:
            self._settle(2 * integration_ms / 1000.0)  # type: ignore[operator]

    def read(self) -> "tuple[int, float, int, int]":
        try:
            if self._dev is None:
                import adafruit_tsl2591  # type: ignore[import-untyped]  # no type hints shipped

                self._dev = adafruit_tsl2591.TSL2591(self._i2c, self.address)
                self._apply(self._step)
            for _ in range(len(self.LADDER)):
                _, gain, _, integration_ms = self.LADDER[self._step]
                ceiling = TSL2591_MAX_COUNT_100MS if integration_ms == 100.0 else TSL2591_MAX_COUNT
                c0, c1 = self._dev.raw_luminosity  # type: ignore[attr-defined]
                overflow = c0 >= ceiling or c1 >= ceiling
                if (overflow or c0 > HIGH_FRACTION * ceiling) and self._step > 0:
                    self._apply(self._step - 1)
                    continue
                if c0 < LOW_COUNTS and self._step < len(self.LADDER) - 1 and not overflow:
                    self._apply(self._step + 1)
                    continue
                break
        except (OSError, ValueError, RuntimeError) as exc:
            self._dev = None
            raise ProbeError("unavailable", f"TSL2591 at 0x{self.address:02x}: {exc}") from exc
        lux = tsl2591_lux(c0, c1, gain, integration_ms)
        if lux > MAX_LUX:
            raise ProbeError("out-of-range", f"TSL2591 at 0x{self.address:02x}: {lux:.0f} lx")
        return self._step | (0x80 if overflow else 0), lux, c0, c1


class _Thermometer(Probe):
    quantity = "temperature"
    label = ""
    low_celsius = -40.0
    high_celsius = 125.0

    def _open(self) -> object:
        raise NotImplementedError

    def read(self) -> "tuple[int, float, int, int]":
        try:
            if self._dev is None:
                self._dev = self._open()
            celsius = float(self._dev.temperature)  # type: ignore[attr-defined]
        except (OSError, ValueError, RuntimeError) as exc:
            self._dev = None
            raise ProbeError("unavailable", f"{self.label} at 0x{self.address:02x}: {exc}") from exc
        if not self.low_celsius <= celsius <= self.high_celsius:
            raise ProbeError("out-of-range", f"{self.label} at 0x{self.address:02x}: {celsius:.2f} C")
        return 0, celsius, 0xFFFF, 0


class Mcp9808Probe(_Thermometer):
    driver = "mcp9808"
    label = "MCP9808"

    def _open(self) -> object:
        import adafruit_mcp9808  # type: ignore[import-untyped]  # no type hints shipped

        return adafruit_mcp9808.MCP9808(self._i2c, self.address)


class Pct2075Probe(_Thermometer):
    driver = "pct2075"
    label = "PCT2075"
    low_celsius = -55.0

    def _open(self) -> object:
        import adafruit_pct2075  # type: ignore[import-untyped]  # no type hints shipped

        return adafruit_pct2075.PCT2075(self._i2c, self.address)


PROBES: "dict[str, type[Probe]]" = {"tsl2591": Tsl2591Probe, "mcp9808": Mcp9808Probe, "pct2075": Pct2075Probe}
DEFAULT_ADDRESSES = {"tsl2591": 0x29, "mcp9808": 0x18, "pct2075": 0x37}
