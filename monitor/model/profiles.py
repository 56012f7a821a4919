"""Drug profiles and packaging transmittances, loaded from TOML as validated data with provenance.

The shipped file is ``monitor/data/drug_profiles.toml``; a site may add or override entries with a file of
the same shape. Every constant is a :class:`Constant` carrying where it came from, so the API can report a
placeholder as a placeholder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from monitor.errors import ConfigError, InvalidRequest
from monitor.model import geometry, light_catalog, photolysis, spectra

# Re-exported: the profiles and their constants lived here, and callers import them from here.
from monitor.model.constants import Constant as Constant
from monitor.model.constants import Provenance as Provenance
from monitor.model.photolysis import DrugLight, LinearRates, RateRange
from monitor.model.profile_models import DrugModel as DrugModel
from monitor.model.profile_models import FormModel as FormModel
from monitor.model.profile_models import LampModel as LampModel
from monitor.model.profile_models import PackagingModel as PackagingModel
from monitor.model.profile_models import ProfileFile
from monitor.model.spectra import FloatArray, lamp_table
from monitor.model.spectral import MEASURED_SPECTRUM_LAMP, SpectralChip, reconstruction

# The lamp assumed where a location configures none: κ = 1 with the whole §6 range (see the TOML).
UNKNOWN_LAMP = "unknown"


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every drug and packaging state the model knows, by name."""

    drugs: dict[str, DrugModel]
    packaging: dict[str, PackagingModel]
    lamps: dict[str, LampModel]
    # The drawn spectral inputs and fitted quantum yield of each drug that has an absorption spectrum.
    lights: dict[str, DrugLight] = field(default_factory=dict)

    def light_rate(
        self, drug: str, form: FormModel, lamp: LampModel, packaging: PackagingModel
    ) -> RateRange | None:
        """k per lux·h of ``form`` behind ``packaging`` under ``lamp``, from the integral for this
        combination (sharper than the product of the form's, lamp's and packaging's ranges); None for a
        drug without a spectrum, or a lamp or packaging state given as a bare number."""
        light = self.lights.get(drug)
        if light is None or not lamp.spectra or not (packaging.filters or packaging.tau.value == 1.0):
            return None
        return photolysis.light_rate(
            light,
            form.concentration_mg_per_ml.value,
            form.path_cm,
            lamp.spectra,
            packaging.filters,
            packaging.powder_factor,
        )

    def light_rate_of_spectrum(
        self, drug: str, form: FormModel, photon_flux_per_lux: FloatArray, packaging: PackagingModel
    ) -> RateRange | None:
        """k per lux·h of ``form`` behind ``packaging`` under light of a measured spectrum (photon flux per
        lux on the integral's grid: :func:`monitor.model.spectral.photon_flux_from_counts`), through the
        same integral as a lamp's, widened by the channel estimate's error (the ``measured-spectrum``
        factor's range); None where :meth:`light_rate` would be."""
        light = self.lights.get(drug)
        if light is None or not (packaging.filters or packaging.tau.value == 1.0):
            return None
        r = photolysis.light_rate_of_flux(
            light,
            form.concentration_mg_per_ml.value,
            form.path_cm,
            np.atleast_2d(photon_flux_per_lux),
            packaging.filters,
            packaging.powder_factor,
        )
        f = self.lamps[MEASURED_SPECTRUM_LAMP].kappa
        return RateRange(r.best * f.value, r.low * f.lowest, r.high * f.highest)

    def spectrum_rates(
        self, drug: str, form: FormModel, packaging: PackagingModel, chip: SpectralChip
    ) -> LinearRates | None:
        """k per lux·h of ``form`` behind ``packaging`` under light a spectral chip measured, as a linear
        map of the chip's peak irradiances per lux (:func:`monitor.model.spectral.peaks_per_lux`): for each
        spectrum, :meth:`light_rate_of_spectrum` of the estimate, its range widened by the estimate's
        error; None where :meth:`light_rate` would be."""
        light = self.lights.get(drug)
        if light is None or not (packaging.filters or packaging.tau.value == 1.0):
            return None
        return photolysis.linear_rates(
            light,
            form.concentration_mg_per_ml.value,
            form.path_cm,
            reconstruction(chip).photons.T,
            packaging.filters,
            packaging.powder_factor,
            self.lamps[MEASURED_SPECTRUM_LAMP].kappa,
        )

    def with_light_rate(self, drug: str, form: FormModel) -> FormModel:
        """``form`` with its light rate derived anew from the integral: for a form built or changed after
        load (a what-if's own concentration or path), which would otherwise keep the catalogue form's rate
        or fall back to k_thin, the rate in the calibration's infusion container, not the bare one."""
        light = self.lights.get(drug)
        rate = None if light is None else light_catalog.form_rate(light, form)
        return form.model_copy(update={"light_rate_per_lux_hour": rate})

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


def _check_names(packaging: dict[str, PackagingModel], lamps: dict[str, LampModel], origin: str) -> None:
    filters, sources = spectra.shipped().filters, lamp_table().sources
    for key, state in packaging.items():
        for name in state.filters:
            if name not in filters:
                known = ", ".join(sorted(filters))
                raise ConfigError(
                    f"{origin}: packaging.{key}.filters: unknown filter {name!r}; known: {known}"
                )
    for key, lamp in lamps.items():
        for name in lamp.spectra:
            if name not in sources:
                known = ", ".join(sorted(sources))
                raise ConfigError(f"{origin}: lamps.{key}.spectra: unknown spectrum {name!r}; known: {known}")


def load_catalog(extra_file: Path | None = None) -> Catalog:
    """The shipped profiles, with ``extra_file``'s drugs and packaging states added or replacing by name;
    every constant the spectral model derives filled in (:mod:`monitor.model.light_catalog`)."""
    shipped = resources.files("monitor").joinpath("data/drug_profiles.toml").read_text(encoding="utf-8")
    base = _parse(shipped, "drug_profiles.toml (shipped)")
    drugs = dict(base.drugs)
    packaging = dict(base.packaging)
    lamps = dict(base.lamps)
    origin = "drug_profiles.toml (shipped)"
    if extra_file is not None:
        try:
            text = extra_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{extra_file}: cannot read drug profiles: {exc.strerror}") from exc
        extra = _parse(text, str(extra_file))
        drugs.update(extra.drugs)
        packaging.update(extra.packaging)
        lamps.update(extra.lamps)
        origin = str(extra_file)
    _check_names(packaging, lamps, origin)
    try:
        drugs, packaging, lamps, lights = light_catalog.derive(
            drugs, packaging, lamps, spectra.shipped(), geometry.catalogue()
        )
    except ValueError as exc:
        raise ConfigError(f"{origin}: {exc}") from exc
    return Catalog(drugs=drugs, packaging=packaging, lamps=lamps, lights=lights)
