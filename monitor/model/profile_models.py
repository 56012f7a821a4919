"""The shapes of the drug profiles file: drugs and their forms, packaging states and lamp types.

Validated data with provenance. Constants the spectral model derives (a form's light rate and path, a
packaging state's τ_pkg, a lamp's κ_s) may be left out of the file where the entry names its spectral
inputs instead (containers, filters, spectra): :func:`monitor.model.profiles.load_catalog` fills them in.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.model.constants import Constant

# Stands in for a constant the loader derives from the spectral model; never seen after loading.
PENDING = Constant(value=1.0, provenance="derived", source="derived at load from the spectral model")
Contents = Literal["solution", "powder"]


class FormModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    description: str
    concentration_mg_per_ml: Constant
    path_cm: Constant = PENDING
    label_use_within_minutes: Constant | None = None
    # The containers the solution may be in (the first is the usual one) and its volume: they set the path
    # (monitor/data/containers.toml) where ``path_cm`` is not given.
    containers: tuple[str, ...] = ()
    fill_ml: Constant | None = None
    # Derived at load: k per lux·h of the bare solution under the reference lamp, with its whole range.
    light_rate_per_lux_hour: Constant | None = None

    @model_validator(mode="after")
    def _path_or_container(self) -> Self:
        if self.path_cm == PENDING and not (self.containers and self.fill_ml is not None):
            raise ValueError("give path_cm, or containers and fill_ml")
        return self


class DrugModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    name: str
    k_thin_per_lux_hour: Constant
    epsilon_per_molar_cm: Constant
    molar_mass_g_per_mol: Constant
    activation_energy_kj_per_mol: Constant
    k_ref_per_hour: Constant
    t_ref_kelvin: Constant
    # Optional Arrhenius factor on the photolysis rate k_L (§7: none by default; cobamamide photolysis
    # speeds up with temperature, no number found). Relative to ``t_ref_kelvin``.
    light_activation_energy_kj_per_mol: Constant | None = None
    forms: dict[str, FormModel] = Field(min_length=1)


class PackagingModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    description: str
    tau: Constant = PENDING
    # The spectral filters between the light and the drug (monitor/data/spectral_model.toml), outermost
    # first; τ_pkg is derived from them where ``tau`` is not given.
    filters: tuple[str, ...] = ()
    # A dry (lyophilised) cake rather than the form's solution: its rate is the solution's × powder_factor.
    contents: Contents = "solution"
    powder_factor: Constant | None = None
    # The lux assumed for light no sensor saw and no location's worst_case_lux bounds (a stretch without
    # a light sensor, a gap nothing bounds, saturated readings), for a vial in this state: a stated
    # assumption whose high end the low bound takes. None: nothing bounds such light, the low bound is 0 %.
    unseen_lux: Constant | None = None

    @model_validator(mode="after")
    def _tau_or_filters(self) -> Self:
        if self.tau == PENDING and not self.filters:
            raise ValueError("give tau, or the filters it is derived from")
        if (self.contents == "powder") != (self.powder_factor is not None):
            raise ValueError("powder_factor goes with contents = 'powder', and only with it")
        return self


class LampModel(BaseModel):
    """A lamp type and its spectrum factor κ_s: photolysis per lux relative to cool-white fluorescent (§6)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    description: str
    kappa: Constant = PENDING
    # The CIE sources (monitor/data/lamp_spectra.csv) the lamp may be, the usual one first; κ_s is derived
    # from them where ``kappa`` is not given.
    spectra: tuple[str, ...] = ()
    # Why the usual spectrum is a guess rather than known (a location that names no lamp): the derived κ_s
    # is then reported as assumed, with this reason first in its source.
    assumption: str | None = None

    @model_validator(mode="after")
    def _kappa_or_spectra(self) -> Self:
        if self.kappa == PENDING and not self.spectra:
            raise ValueError("give kappa, or the spectra it is derived from")
        return self


class ProfileFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    drugs: dict[str, DrugModel] = Field(default_factory=dict)
    packaging: dict[str, PackagingModel] = Field(default_factory=dict)
    lamps: dict[str, LampModel] = Field(default_factory=dict)
