"""Drug profiles and packaging transmittances, loaded from TOML as validated data with provenance.

The shipped file is ``monitor/data/drug_profiles.toml``; a site may add or override entries with a file of
the same shape. Every constant is a :class:`Constant` carrying where it came from, so the API can report a
placeholder as a placeholder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.errors import ConfigError, InvalidRequest

Provenance = Literal["sourced", "derived", "assumed"]


class Constant(BaseModel):
    """A number with its provenance: sourced, derived (from sourced figures) or assumed (a placeholder).

    ``low`` and ``high`` give the range the source allows (photokinetics.md §7, "Range for sensitivity");
    left out, the value is taken as exact. The uncertainty bounds on potency use them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: float
    provenance: Provenance
    source: str = Field(min_length=1)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _range_holds_value(self) -> Self:
        if self.low is not None and self.low > self.value:
            raise ValueError(f"low {self.low:g} is above the value {self.value:g}")
        if self.high is not None and self.high < self.value:
            raise ValueError(f"high {self.high:g} is below the value {self.value:g}")
        return self

    @property
    def lowest(self) -> float:
        return self.value if self.low is None else self.low

    @property
    def highest(self) -> float:
        return self.value if self.high is None else self.high


class FormModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str
    concentration_mg_per_ml: Constant
    path_cm: Constant
    label_use_within_minutes: Constant | None = None


class DrugModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
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
    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str
    tau: Constant


class LampModel(BaseModel):
    """A lamp type and its spectrum factor κ_s: photolysis per lux relative to cool-white fluorescent (§6)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str
    kappa: Constant


class ProfileFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    drugs: dict[str, DrugModel] = Field(default_factory=dict)
    packaging: dict[str, PackagingModel] = Field(default_factory=dict)
    lamps: dict[str, LampModel] = Field(default_factory=dict)


# The lamp assumed where a location configures none: κ = 1 with the whole §6 range (see the TOML).
UNKNOWN_LAMP = "unknown"


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every drug and packaging state the model knows, by name."""

    drugs: dict[str, DrugModel]
    packaging: dict[str, PackagingModel]
    lamps: dict[str, LampModel]

    def drug(self, name: str) -> DrugModel:
        try:
            return self.drugs[name]
        except KeyError:
            raise InvalidRequest(f"unknown drug {name!r}; known: {', '.join(sorted(self.drugs))}") from None

    def form(self, drug: str, form: str) -> FormModel:
        forms = self.drug(drug).forms
        try:
            return forms[form]
        except KeyError:
            raise InvalidRequest(
                f"unknown form {form!r} of {drug!r}; known: {', '.join(sorted(forms))}"
            ) from None

    def tau(self, packaging: str) -> float:
        try:
            return self.packaging[packaging].tau.value
        except KeyError:
            raise InvalidRequest(
                f"unknown packaging state {packaging!r}; known: {', '.join(sorted(self.packaging))}"
            ) from None

    def packaging_state(self, packaging: str) -> PackagingModel:
        self.tau(packaging)
        return self.packaging[packaging]

    def lamp(self, name: str) -> LampModel:
        try:
            return self.lamps[name]
        except KeyError:
            raise InvalidRequest(
                f"unknown lamp type {name!r}; known: {', '.join(sorted(self.lamps))}"
            ) from None


def _parse(text: str, origin: str) -> ProfileFile:
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from exc
    try:
        return ProfileFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{origin}: {key}: {first['msg']}") from exc


def load_catalog(extra_file: Path | None = None) -> Catalog:
    """The shipped profiles, with ``extra_file``'s drugs and packaging states added or replacing by name."""
    shipped = resources.files("monitor").joinpath("data/drug_profiles.toml").read_text(encoding="utf-8")
    base = _parse(shipped, "drug_profiles.toml (shipped)")
    drugs = dict(base.drugs)
    packaging = dict(base.packaging)
    lamps = dict(base.lamps)
    if extra_file is not None:
        try:
            text = extra_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{extra_file}: cannot read drug profiles: {exc.strerror}") from exc
        extra = _parse(text, str(extra_file))
        drugs.update(extra.drugs)
        packaging.update(extra.packaging)
        lamps.update(extra.lamps)
    return Catalog(drugs=drugs, packaging=packaging, lamps=lamps)
