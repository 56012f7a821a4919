"""The profiles' light constants, derived from the spectral model when the catalogue loads.

The live model multiplies three factors per stretch of a vial's life (photokinetics.md §7): the form's
rate k (per lux·h), the lamp's κ_s and the packaging's τ_pkg. The polychromatic integral
(:mod:`monitor.model.photolysis`) does not factor so: a thick solution sees a lamp differently from a thin
one, and amber glass reshapes each lamp's spectrum differently. For every draw of the inputs the identity

    k(form, lamp, pkg) = k(form, ref, bare) · [k(form, lamp, bare) / k(form, ref, bare)]
                                           · [k(form, lamp, pkg) / k(form, lamp, bare)]

holds exactly, so each factor is given as its best value (a thin solution, the reference lamp FL2, every
input at its best) and a range over every form of every drug, every draw and, for τ_pkg, every lamp
spectrum: the product of the three ranges then contains the integral's range for any combination. The
joint rate of one combination, sharper, is :meth:`monitor.model.profiles.Catalog.light_rate`.
"""

from __future__ import annotations

import numpy as np

from monitor.model import geometry, photolysis
from monitor.model.constants import Constant
from monitor.model.photolysis import DrugLight, RateRange
from monitor.model.profile_models import PENDING, DrugModel, FormModel, LampModel, PackagingModel
from monitor.model.spectra import REFERENCE_SPECTRUM, SpectralFile, lamp_table

THIN = 0.0  # mg/mL: the optically thin limit


def with_paths(drug: DrugModel, containers: geometry.ContainerFile) -> DrugModel:
    """The drug with every form's path set from its containers where the file gave none."""
    forms: dict[str, FormModel] = {}
    for key, form in drug.forms.items():
        if form.path_cm == PENDING:
            assert form.fill_ml is not None  # the form's validator requires it
            try:
                path = geometry.path_constant(form.containers, form.fill_ml, containers)
            except ValueError as exc:
                raise ValueError(f"forms.{key}: {exc}") from None
            form = form.model_copy(update={"path_cm": path})
        forms[key] = form
    return drug.model_copy(update={"forms": forms})


def drug_light(
    drug_key: str, drug: DrugModel, packaging: dict[str, PackagingModel], spectral: SpectralFile
) -> DrugLight | None:
    """The drug's drawn spectral inputs and fitted calibration; None without an absorption spectrum."""
    absorption = spectral.absorption.get(drug_key)
    calibration = spectral.calibration.get(drug_key)
    if absorption is None or calibration is None:
        return None
    form = drug.forms[calibration.form]
    return photolysis.build(
        absorption,
        calibration,
        spectral.filters,
        drug.molar_mass_g_per_mol.value,
        form.concentration_mg_per_ml.value,
        form.path_cm,
        packaging[calibration.packaging].filters,
    )


def form_rate(light: DrugLight, form: FormModel) -> Constant:
    r = photolysis.light_rate(light, form.concentration_mg_per_ml.value, form.path_cm, (REFERENCE_SPECTRUM,))
    return r.constant(
        "photolysis integral for the bare solution under cool-white fluorescent light (FL2), Φ fitted to "
        f"the calibration series; range over the series' k {light.fit.low:.3f}-{light.fit.high:.3f} h⁻¹, "
        "the lux meter, the source's unknown spectrum, ε(λ) and its proxies and the path "
        "(monitor/model/photolysis.py, spectral_model.toml)"
    )


def _cases(
    drugs: dict[str, DrugModel], lights: dict[str, DrugLight], reference_drug: str
) -> list[tuple[DrugLight, float, Constant]]:
    """(light, concentration, path) of a thin solution of the reference drug first (it sets κ_s's best
    value, as for a measured spectrum: :func:`monitor.model.spectra.thin_kappa`), then every form of every
    drug."""
    thin = Constant(value=1.0, provenance="derived", source="thin")
    out: list[tuple[DrugLight, float, Constant]] = []
    ordered = sorted(lights.items(), key=lambda item: item[0] != reference_drug)
    for key, light in ordered:
        out.append((light, THIN, thin))
        out += [(light, f.concentration_mg_per_ml.value, f.path_cm) for f in drugs[key].forms.values()]
    return out


def _ratio_envelope(
    cases: list[tuple[DrugLight, float, Constant]],
    spectra: tuple[str, ...],
    filters: tuple[str, ...],
    over: tuple[str, ...],
    over_filters: tuple[str, ...],
) -> RateRange:
    """k(spectra, filters) / k(over, over_filters) for every case and draw: the first case's row 0 and
    first spectrum as best, the envelope as range."""
    best, low, high = float("nan"), float("inf"), float("-inf")
    for light, conc, path in cases:
        num = photolysis.relative_rate(light, conc, path, spectra, filters)[:, 0, :]
        den = photolysis.relative_rate(light, conc, path, over, over_filters)[:, 0, :]
        ratio = num / den
        if np.isnan(best):
            best = float(ratio[0, 0])
        low, high = min(low, float(ratio.min())), max(high, float(ratio.max()))
    return RateRange(best, low, high)


def lamp_kappa(lamp: LampModel, cases: list[tuple[DrugLight, float, Constant]]) -> Constant:
    r = _ratio_envelope(cases, lamp.spectra, (), (REFERENCE_SPECTRUM,) * len(lamp.spectra), ())
    derived = (
        f"photolysis integral under the §6 CIE spectra {', '.join(lamp.spectra)} over cool-white "
        "fluorescent (FL2), per lux: best for a thin solution (the absorbed photons weighted by ε(λ)), range "
        "over every form, ε(λ) and its proxies (monitor/model/light_catalog.py)"
    )
    if lamp.assumption is not None:
        return r.constant(f"{lamp.assumption}; {derived}", provenance="assumed")
    return r.constant(derived)


def packaging_tau(state: PackagingModel, cases: list[tuple[DrugLight, float, Constant]]) -> Constant:
    every = tuple(lamp_table().sources)
    first = (REFERENCE_SPECTRUM, *(s for s in every if s != REFERENCE_SPECTRUM))
    r = _ratio_envelope(cases, first, state.filters, first, ())
    note = ""
    if state.powder_factor is not None:
        p = state.powder_factor
        r = RateRange(r.best * p.value, r.low * p.lowest, r.high * p.highest)
        note = f"; × the powder factor {p.value:g} ({p.lowest:g}-{p.highest:g})"
    return r.constant(
        f"spectral transmittance of {' × '.join(state.filters)} weighted by the light each form absorbs: "
        "best for a thin solution under FL2, range over every form, lamp spectrum and filter range"
        f" (spectral_model.toml){note}"
    )


def derive(
    drugs: dict[str, DrugModel],
    packaging: dict[str, PackagingModel],
    lamps: dict[str, LampModel],
    spectral: SpectralFile,
    containers: geometry.ContainerFile,
) -> tuple[dict[str, DrugModel], dict[str, PackagingModel], dict[str, LampModel], dict[str, DrugLight]]:
    """Fill in every pending path, form rate, κ_s and τ_pkg."""
    drugs = {k: with_paths(d, containers) for k, d in drugs.items()}
    lights: dict[str, DrugLight] = {}
    for key, drug in drugs.items():
        light = drug_light(key, drug, packaging, spectral)
        if light is None:
            continue
        lights[key] = light
        forms = {
            k: f.model_copy(update={"light_rate_per_lux_hour": form_rate(light, f)})
            for k, f in drug.forms.items()
        }
        drugs[key] = drug.model_copy(update={"forms": forms})
    cases = _cases(drugs, lights, spectral.reference_drug)
    pending = [f"lamps.{k}" for k, v in lamps.items() if v.kappa == PENDING]
    pending += [f"packaging.{k}" for k, v in packaging.items() if v.tau == PENDING]
    if pending and not cases:
        raise ValueError(f"{pending[0]}: derived from spectra, but no drug has an absorption spectrum")
    lamps = {
        k: v if v.kappa != PENDING else v.model_copy(update={"kappa": lamp_kappa(v, cases)})
        for k, v in lamps.items()
    }
    packaging = {
        k: v if v.tau != PENDING else v.model_copy(update={"tau": packaging_tau(v, cases)})
        for k, v in packaging.items()
    }
    return drugs, packaging, lamps, lights
