"""Everything the potency model reads of a site, as arrays and plain values: what one load hands it.

A vial is its facts and its events; a location is its lamp, its worst-case lux and what its sensors
recorded over the span the evaluation needs: each cumulative ledger (lux·h, equivalent hours at 25 °C,
the spectral and near-UV ledgers) at the times the model will ask, the light sensor's gaps, saturated
readings and hourly maxima, and the newest readings the time left is computed from. The loader
(:mod:`monitor.loading`) fills these; :mod:`monitor.model.evaluation` computes from them alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from monitor.model.kinetics import FloatArray


@dataclass(frozen=True, slots=True)
class LedgerAt:
    """A cumulative ledger's values at the times it was sampled (sorted, distinct).

    The model asks only for times the loader was told it would ask for (:func:`monitor.model.stretches.
    ledger_times`); any other is a programming error, not an interpolation.
    """

    ts: FloatArray
    values: FloatArray

    def at(self, times: FloatArray) -> FloatArray:
        i = np.minimum(np.searchsorted(self.ts, times), max(len(self.ts) - 1, 0))
        if len(times) and (not len(self.ts) or not np.array_equal(self.ts[i], times)):
            missing = np.setdiff1d(times, self.ts)
            raise ValueError(f"ledger not sampled at {missing[:3].tolist()}")
        values: FloatArray = self.values[i]
        return values

    @classmethod
    def empty(cls) -> LedgerAt:
        return cls(np.empty(0), np.empty(0))


@dataclass(frozen=True, slots=True)
class LatestLight:
    ts: float
    lux: float
    saturated: bool


@dataclass(frozen=True, slots=True)
class LightRecord:
    """A location's primary light sensor and what it recorded over the loaded span ``[start, end]``."""

    key: str
    calibration_uncertainty_lux: float
    interval_seconds: float
    max_gap_seconds: float
    ledger: LedgerAt  # lux·h
    first_ts: float | None  # its first reading ever (minutes aggregated past retention included)
    last_ts: float | None  # its last raw reading
    tolerance_seconds: float  # a silence shorter than this after the last reading is none
    gap_starts: FloatArray  # recorded gaps overlapping the span
    gap_ends: FloatArray
    hour_ts: FloatArray  # hourly maxima over the span and a day either side (without a worst case)
    hour_max_lux: FloatArray
    saturated_ts: FloatArray  # raw saturated readings in the span
    saturated_lux: FloatArray
    minute_first_ts: FloatArray  # minutes aggregated past retention holding saturated readings
    minute_last_ts: FloatArray
    minute_saturated: FloatArray
    minute_saturated_lux: FloatArray
    latest: LatestLight | None


@dataclass(frozen=True, slots=True)
class TemperatureRecord:
    """A location's primary temperature sensor: the thermal ledger at the sampled times, and the raw
    series over the span where a drug's activation energy is not the ledger's (``None`` otherwise)."""

    key: str
    calibration_uncertainty_celsius: float
    max_gap_seconds: float
    ledger: LedgerAt  # equivalent hours at 25 °C, ΔH/R of USP MKT
    series_ts: FloatArray | None
    series_celsius: FloatArray | None
    latest_celsius: float | None


@dataclass(frozen=True, slots=True)
class LatestKappa:
    """A spectral sensor's newest reading that gave a κ_s, and its spectrum (None: not reconstructed)."""

    ts: float
    kappa: float
    peaks_per_lux: FloatArray | None = None  # :func:`monitor.model.spectral.peaks_per_lux`


@dataclass(frozen=True, slots=True)
class LatestLit:
    """A UV sensor's newest reading with light enough for a daylight share."""

    ts: float
    lux: float
    near_uv_w_per_m2: float


@dataclass(frozen=True, slots=True)
class SpectralRecord:
    """A spectral sensor (AS7341): lux·h where it measured κ_s, κ_s·lux·h and the spectrum it measured
    (W·h m⁻² nm⁻¹ at each filter peak: times × channels), at the sampled times."""

    key: str
    lux_ledger: LedgerAt
    kappa_lux_ledger: LedgerAt
    latest_kappa: LatestKappa | None
    chip: str = "as7341"
    spectrum_ledger: LedgerAt | None = None  # None: not loaded (light uncharacterised beyond κ_s)


@dataclass(frozen=True, slots=True)
class UvRecord:
    """A UV sensor (LTR390): its own lux·h and its near-UV W·h/m² at the sampled times."""

    key: str
    lux_ledger: LedgerAt
    near_uv_ledger: LedgerAt
    latest_lit: LatestLit | None


@dataclass(frozen=True, slots=True)
class LocationInputs:
    id: int
    lamp: str
    worst_case_lux: float | None
    light: LightRecord | None
    temperature: TemperatureRecord | None
    spectral: SpectralRecord | None
    uv: UvRecord | None


@dataclass(frozen=True, slots=True)
class EventFacts:
    """A change in a vial's life at its true time; ``location_id``/``packaging`` hold after it."""

    ts: float
    kind: str
    location_id: int | None
    packaging: str | None


@dataclass(frozen=True, slots=True)
class PotencyState:
    """The potency model's running sums for one vial up to one time: all it needs to go on from there.

    The potency is ``f0·exp(−(light + k_ref·Θ))`` at each corner (:mod:`monitor.model.evaluation`): the
    light sums already hold k, κ_s, τ_pkg and g(T) of every stretch, Θ is the heat in hours at T_ref. A
    vial handed over to another site carries these, and the receiving site adds its own stretches to them,
    so its potency is the one the whole life at one site would give.
    """

    light_loss_best: float  # Σ k·κ_s·τ_pkg·g(T)·lux·h at the profile's values (dimensionless)
    light_loss_most: float  # the fastest corner: the low bound's
    light_loss_least: float  # the slowest corner: the high bound's
    thermal_hours_best: float  # Θ, equivalent hours at the drug's T_ref
    thermal_hours_low: float
    thermal_hours_high: float
    effective_lux_hours_best: float  # Σ κ_s·τ_pkg·lux·h
    effective_lux_hours_least: float
    effective_lux_hours_most: float
    unbounded: bool  # light no data bound reached the vial: the low bound is 0 from then on

    @classmethod
    def zero(cls) -> PotencyState:
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False)


@dataclass(frozen=True, slots=True)
class CarriedState:
    """A vial's state when this site received it, at ``ts``: the sums of its life elsewhere up to then."""

    ts: float
    state: PotencyState
    origin: str  # the site it came from
    uncertainty: tuple[str, ...]  # what widened its bounds there, in words


@dataclass(frozen=True, slots=True)
class VialInputs:
    """A vial as the model reads it, and the times it is evaluated at (sorted)."""

    id: int
    drug: str
    form: str
    initial_potency_percent: float
    registered_ts: float
    events: tuple[EventFacts, ...]
    times: FloatArray  # the times to evaluate at; the last is ``as_of``
    as_of: float  # the time of the data the verdict reads
    now: float | None  # wall clock: silence after ``as_of`` widens the low bound up to it
    silence_from: float | None  # the data's time where a silent sensor's stretch starts; None: none
    # Each receipt from another site, in time order: from its time on, the potency goes on from its state.
    carried: tuple[CarriedState, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelInputs:
    vials: tuple[VialInputs, ...]
    locations: Mapping[int, LocationInputs]
