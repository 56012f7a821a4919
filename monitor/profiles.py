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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.errors import ConfigError, InvalidRequest

Provenance = Literal["sourced", "derived", "assumed"]


class Constant(BaseModel):
    """A number with its provenance: sourced, derived (from sourced figures) or assumed (a placeholder)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: float
    provenance: Provenance
    source: str = Field(min_length=1)


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
    forms: dict[str, FormModel] = Field(min_length=1)


class PackagingModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str
    tau: Constant


class ProfileFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    drugs: dict[str, DrugModel] = Field(default_factory=dict)
    packaging: dict[str, PackagingModel] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every drug and packaging state the model knows, by name."""

    drugs: dict[str, DrugModel]
    packaging: dict[str, PackagingModel]

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
    if extra_file is not None:
        try:
            text = extra_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{extra_file}: cannot read drug profiles: {exc.strerror}") from exc
        extra = _parse(text, str(extra_file))
        drugs.update(extra.drugs)
        packaging.update(extra.packaging)
    return Catalog(drugs=drugs, packaging=packaging)
