"""Locations (current conditions, MKT, cumulative dose) and sensors (last reading, status)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from api.deps import State, StoreDep
from api.schemas import Location, ModelParameter, NearUvDose, Sensor, iso
from hardware.chips.ltr390 import NEAR_UV_W_PER_M2_PER_UVI
from monitor import measured_light
from monitor.config import Settings
from monitor.locations import LocationSummary
from monitor.model.profiles import Catalog
from monitor.store.ports import Store

router = APIRouter(prefix="/api/v1", tags=["sites"])


def location_schema(store: Store, catalog: Catalog, s: LocationSummary, settings: Settings) -> Location:
    """A location as the API shows it: conditions, dose, MKT, and the lamp with its κ_s and provenance."""
    loc = s.location
    light = store.location_light(loc.id)
    kappa = catalog.lamp(light.lamp).kappa
    return Location(
        key=loc.key,
        name=loc.name,
        kind=loc.kind,
        as_of=iso(s.as_of),
        lux=s.lux,
        lux_saturated=s.lux_saturated,
        celsius=s.celsius,
        cumulative_lux_hours=s.cumulative_lux_hours,
        mean_kinetic_temperature_celsius=s.mean_kinetic_temperature_celsius,
        lamp=light.lamp,
        spectrum_factor=ModelParameter(
            name="lamp spectrum factor",
            symbol="κ_s",
            value=kappa.value,
            low=kappa.lowest,
            high=kappa.highest,
            unit="1",
            provenance=kappa.provenance,
            source=kappa.source,
        ),
        worst_case_lux=light.worst_case_lux,
        measured_spectrum_factor=_measured_kappa(store, catalog, loc.id),
        near_uv=_near_uv(store, loc.id, settings),
    )


def _measured_kappa(store: Store, catalog: Catalog, location_id: int) -> ModelParameter | None:
    measured = store.measured_kappa(catalog, location_id)
    if measured is None:
        return None
    when, kappa = measured.ts, measured.kappa
    sensor = store.spectral_sensor(location_id)
    provenance: Literal["derived", "assumed"]
    if sensor is not None:
        factor = catalog.lamp(measured_light.MEASURED_SPECTRUM).kappa
        provenance = "derived"
        source = f"spectrum measured by {sensor.key} at {iso(when)}; range: {factor.source}"
    else:
        uv = store.spectral_sensor(location_id, near_uv=True)
        provenance = "assumed"
        source = (
            f"lamp '{store.location_light(location_id).lamp}' and daylight"
            f" ('{measured_light.DAYLIGHT_LAMP}') mixed in"
            f" the shares the near-UV per lux measured by {uv.key if uv else 'the UV sensor'} at {iso(when)}"
            f" gives (§6: 0.36 W/m² of 300-400 nm per 1000 lx of ID65 indoor daylight; range to D65's 0.54);"
            f" assumes {measured_light.UV_ASSUMPTIONS}"
        )
    return ModelParameter(
        name="lamp spectrum factor, measured",
        symbol="κ_s",
        value=kappa.best,
        low=kappa.low,
        high=kappa.high,
        unit="1",
        provenance=provenance,
        source=source,
    )


def _near_uv(store: Store, location_id: int, settings: Settings) -> NearUvDose | None:
    dose = store.near_uv_dose(location_id)
    if dose is None:
        return None
    configured = next((c for c in settings.sensors if c.key == dose.sensor_key), None)
    per_uvi = None if configured is None else configured.calibration.near_uv_w_per_m2_per_uvi
    basis = (
        f"an assumed {NEAR_UV_W_PER_M2_PER_UVI:g} W/m² of 300-400 nm irradiance per UV index (a "
        "daylight-like spectrum); calibrate against a UV radiometer and set the sensor's"
        " calibration.near_uv_w_per_m2_per_uvi"
        if per_uvi is None
        else f"{per_uvi:g} W/m² of 300-400 nm irradiance per UV index, from the sensor's calibration"
    )
    return NearUvDose(
        sensor=dose.sensor_key,
        as_of=iso(dose.as_of),
        wh_per_m2=dose.wh_per_m2,
        ich_q1b_wh_per_m2=dose.ich_q1b_wh_per_m2,
        fraction_of_ich_q1b=dose.fraction_of_ich_q1b,
        assumption=f"the LTR390's UV index (2300 counts per UVI, datasheet) times {basis}",
    )


@router.get("/locations", response_model=list[Location])
def list_locations(store: StoreDep, state: State) -> list[Location]:
    with store.snapshot():
        return [
            location_schema(store, state.catalog, store.location_summary(loc), state.settings)
            for loc in store.locations()
        ]


@router.get("/sensors", response_model=list[Sensor])
def list_sensors(store: StoreDep) -> list[Sensor]:
    out: list[Sensor] = []
    with store.snapshot():
        locations = {loc.id: loc.key for loc in store.locations()}
        for s in store.sensors():
            last = store.newest_reading(s)
            out.append(
                Sensor(
                    key=s.key,
                    location=locations[s.location_id],
                    quantity=s.quantity,
                    driver=s.driver,
                    interval_seconds=s.interval_seconds,
                    status=s.status,
                    status_detail=s.status_detail,
                    status_since=iso(s.status_since),
                    last_reading_at=None if last is None else iso(last.ts),
                    last_value=None if last is None else last.value,
                    unit="lx" if s.quantity == "light" else "°C",
                )
            )
    return out
