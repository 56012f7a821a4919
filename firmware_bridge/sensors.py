"""Build the configured sensors: genuine drivers on a real or emulated bus, or direct simulated twins.

A sensor whose chip does not answer at start is not fatal: it is wrapped so every read retries the
construction and fails as :class:`hardware.errors.SensorUnavailable` until the chip answers, so the loop
records the fault, backs off and carries on with the other sensors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from firmware_bridge.acquisition import SampleTime, ScheduledSensor
from hardware.bus import open_i2c_bus
from hardware.calibration import Calibration
from hardware.chips.ds18b20 import EmulatedW1
from hardware.errors import SensorUnavailable
from hardware.fridge import FridgeParameters, Scenario, SimulatedFridge
from hardware.i2c_emulator import EmulatedI2C, Fault
from hardware.registry import DRIVERS, build_sensor, emulated_buses, place_of
from hardware.sensor import LightSample, LightSensor, TemperatureSample, TemperatureSensor
from hardware.simulated_sensors import SimulatedLightSensor, SimulatedTemperatureSensor
from hardware.spectra import LAMP_SOURCES
from hardware.w1 import SysfsW1
from monitor.config import SensorConfig, Settings, SimulationConfig
from monitor.errors import ConfigError
from monitor.plausibility import Limits

Factory = Callable[[], LightSensor | TemperatureSensor]


class _Deferred:
    """Constructs the real sensor on first successful attempt; until then every read is unavailable."""

    def __init__(self, key: str, driver: str, factory: Factory) -> None:
        self.model = driver
        self._key = key
        self._factory = factory
        self._sensor: LightSensor | TemperatureSensor | None = None

    def _get(self) -> LightSensor | TemperatureSensor:
        if self._sensor is None:
            self._sensor = self._factory()  # raises SensorUnavailable while the chip is absent
        return self._sensor


class DeferredLightSensor(_Deferred):
    _light: LightSensor | None = None

    def read_light(self) -> LightSample:
        if self._light is None:  # the kind is checked once: a runtime Protocol check is costly
            sensor = self._get()
            if not isinstance(sensor, LightSensor):
                raise SensorUnavailable(f"{self._key}: driver {self.model!r} does not measure light")
            self._light = sensor
        return self._light.read_light()


class DeferredTemperatureSensor(_Deferred):
    _temperature: TemperatureSensor | None = None

    def read_temperature(self) -> TemperatureSample:
        if self._temperature is None:
            sensor = self._get()
            if not isinstance(sensor, TemperatureSensor):
                raise SensorUnavailable(f"{self._key}: driver {self.model!r} does not measure temperature")
            self._temperature = sensor
        return self._temperature.read_temperature()


def build_fridge(sim: SimulationConfig, origin: float) -> SimulatedFridge:
    """The simulated fridge, with scenario start times made absolute from the simulation's ``origin``."""
    if sim.lamp not in LAMP_SOURCES:
        raise ConfigError(
            f"simulation.lamp: unknown lamp {sim.lamp!r}; known: {', '.join(sorted(LAMP_SOURCES))}"
        )
    fridge = SimulatedFridge(
        FridgeParameters(
            seed=sim.seed,
            openings_per_day=sim.openings_per_day,
            opening_hours=sim.opening_hours,
            utc_offset_hours=sim.utc_offset_hours,
            lamp=sim.lamp,
        )
    )
    for sc in sim.scenarios:
        fridge.add_scenario(
            Scenario(
                kind=sc.kind,
                start=origin + sc.start_after_seconds,
                duration_seconds=sc.duration_seconds,
                lux=sc.lux,
                celsius=sc.celsius,
                sensor=sc.sensor,
            )
        )
    return fridge


def check_drivers(settings: Settings, *, simulate: bool) -> None:
    """Every sensor names a known driver for its quantity and place; ``simulated`` needs --simulate."""
    for i, s in enumerate(settings.sensors):
        if s.driver == "serial":
            if not settings.bridge.serial:
                raise ConfigError(
                    f"sensors[{i}].driver: 'serial' needs a serial source: add [[bridge.serial]] url = ..."
                )
            continue
        if s.driver == "simulated":
            if not simulate:
                raise ConfigError(
                    f"sensors[{i}].driver: 'simulated' needs --simulate; name a chip driver for a real sensor"
                )
            continue
        spec = DRIVERS.get(s.driver)
        if spec is None:
            raise ConfigError(
                f"sensors[{i}].driver: unknown driver {s.driver!r}; "
                f"known: simulated, serial, {', '.join(sorted(DRIVERS))}"
            )
        if spec.quantity != s.quantity:
            raise ConfigError(f"sensors[{i}].driver: {s.driver!r} measures {spec.quantity}, not {s.quantity}")
        try:
            place_of(s.driver, s.address, s.device_id)
        except ValueError as exc:
            raise ConfigError(f"sensors[{i}].device_id: {exc}") from exc


def _scheduled(s: SensorConfig, bus: object) -> ScheduledSensor:
    calibration = Calibration(
        offset=s.calibration.offset,
        gain=s.calibration.gain,
        near_uv_w_per_m2_per_uvi=s.calibration.near_uv_w_per_m2_per_uvi,
    )
    place = place_of(s.driver, s.address, s.device_id)

    def factory() -> LightSensor | TemperatureSensor:
        return build_sensor(s.driver, bus, place, calibration)

    deferred: DeferredLightSensor | DeferredTemperatureSensor = (
        DeferredLightSensor(s.key, s.driver, factory)
        if s.quantity == "light"
        else DeferredTemperatureSensor(s.key, s.driver, factory)
    )
    limits = Limits.of(s.driver, s.quantity, s.calibration.gain, s.calibration.offset)
    return ScheduledSensor(s.key, deferred, s.interval, limits=limits)


@dataclass
class EmulatedBuses:
    """The emulated buses of a simulated site, by bus number, for fault injection."""

    i2c: dict[int, EmulatedI2C]
    w1: EmulatedW1


def build_simulated_sensors(
    settings: Settings, fridge: SimulatedFridge, sample_time: SampleTime
) -> tuple[list[ScheduledSensor], EmulatedBuses]:
    """Every configured sensor reading ``fridge`` at the loop's sample time.

    Chip drivers run genuine driver code on emulated buses; ``simulated`` sensors read the fridge directly.
    """
    check_drivers(settings, simulate=True)
    chips = [s for s in settings.sensors if s.driver not in ("simulated", "serial")]
    seed = settings.simulation.seed * 100
    i2c: dict[int, EmulatedI2C] = {}
    w1 = EmulatedW1()
    for n in sorted({s.bus for s in chips}):
        on_bus = [s for s in chips if s.bus == n]
        bus, probes = emulated_buses(
            [(s.driver, place_of(s.driver, s.address, s.device_id)) for s in on_bus],
            fridge,
            sample_time,
            seed + n,
        )
        bus.schedule = _dropout_schedule(on_bus, fridge, sample_time)
        i2c[n] = bus
        w1.chips.update(probes.chips)
    out: list[ScheduledSensor] = []
    for s in settings.sensors:
        if s.driver == "serial":
            continue  # read by the microcontroller, arriving through a serial source
        if s.driver != "simulated":
            out.append(_scheduled(s, w1 if DRIVERS[s.driver].bus_kind == "w1" else i2c[s.bus]))
        elif s.quantity == "light":
            out.append(ScheduledSensor(s.key, SimulatedLightSensor(fridge, s.key, sample_time), s.interval))
        else:
            out.append(
                ScheduledSensor(s.key, SimulatedTemperatureSensor(fridge, s.key, sample_time), s.interval)
            )
    return out, EmulatedBuses(i2c, w1)


def _dropout_schedule(
    sensors: list[SensorConfig], fridge: SimulatedFridge, sample_time: SampleTime
) -> Callable[[int], Fault | None]:
    """A sensor-dropout scenario reaches an emulated chip as an I/O error, as a pulled cable does."""
    keys = {
        place_of(s.driver, s.address, s.device_id): s.key
        for s in sensors
        if DRIVERS[s.driver].bus_kind == "i2c"
    }

    def schedule(address: int) -> Fault | None:
        key = keys.get(address)
        return "eio" if key is not None and fridge.sensor_dropped_out(key, sample_time()) else None

    return schedule


def build_real_sensors(settings: Settings) -> list[ScheduledSensor]:
    """Sensors on the machine's own buses: I2C through Blinka, 1-Wire through sysfs."""
    check_drivers(settings, simulate=False)
    local = [s for s in settings.sensors if s.driver != "serial"]
    kinds = {s.key: DRIVERS[s.driver].bus_kind for s in local}
    i2c = {n: open_i2c_bus(n) for n in sorted({s.bus for s in local if kinds[s.key] == "i2c"})}
    w1 = SysfsW1()
    return [_scheduled(s, w1 if kinds[s.key] == "w1" else i2c[s.bus]) for s in local]
