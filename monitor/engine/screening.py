"""The engine's last look at a batch: a reading no sensor of its quantity could report becomes a fault.

The entries (the acquisition loop, the serial source) refuse such readings by chip already; this catches
whatever reaches the engine otherwise (a spool replayed after a crash, a source that forgot).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from monitor.batch import Batch, LightReading, SensorFault, TemperatureReading
from monitor.plausibility import OUT_OF_RANGE, Limits, possible_mask


def screen(batch: Batch) -> Batch:
    """``batch`` with every reading no sensor of its quantity could report made an ``out-of-range`` fault."""
    light_ok = possible_mask(
        "light",
        _floats(r.lux for r in batch.light),
        _floats(1.0 if r.gain is None else r.gain for r in batch.light),
        _floats(1.0 if r.integration_ms is None else r.integration_ms for r in batch.light),
    )
    temperature_ok = possible_mask(
        "temperature",
        _floats(r.celsius for r in batch.temperature),
        _floats(
            50.0 if r.relative_humidity_percent is None else r.relative_humidity_percent
            for r in batch.temperature
        ),
    )
    if light_ok.all() and temperature_ok.all():
        return batch  # every batch but a damaged one: no reading looked at twice
    faults: list[SensorFault] = []
    light: list[LightReading] = []
    temperature: list[TemperatureReading] = []
    limits = {q: Limits.of("", q) for q in ("light", "temperature")}
    for lr, ok in zip(batch.light, light_ok, strict=True):
        problem = None if ok else limits["light"].light(lr.lux, lr.gain, lr.integration_ms)
        if problem is None:
            light.append(lr)
        else:
            faults.append(SensorFault(lr.sensor_key, lr.ts, OUT_OF_RANGE, problem))
    for tr, ok in zip(batch.temperature, temperature_ok, strict=True):
        problem = None if ok else limits["temperature"].temperature(tr.celsius, tr.relative_humidity_percent)
        if problem is None:
            temperature.append(tr)
        else:
            faults.append(SensorFault(tr.sensor_key, tr.ts, OUT_OF_RANGE, problem))
    if not faults:
        return batch
    return replace(batch, light=light, temperature=temperature, faults=[*batch.faults, *faults])


def _floats(values: Iterable[float]) -> np.ndarray:
    return np.fromiter(values, dtype=np.float64)
