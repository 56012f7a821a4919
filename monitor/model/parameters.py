"""The model's parameters for one vial or what-if case, each with its value, range, unit and provenance.

This is what the API and ``vialguard predict`` report beside a potency, so a reader sees which numbers are
sourced, which derived and which assumed placeholders (photokinetics.md §7 tags them [S], [D], [A]).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.model import kinetics
from monitor.model.bounds import Interval
from monitor.model.profiles import Constant, DrugModel, FormModel, LampModel, PackagingModel


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    symbol: str
    value: float
    low: float
    high: float
    unit: str
    provenance: str  # sourced | derived | assumed
    source: str


def _from(name: str, symbol: str, unit: str, c: Constant) -> Parameter:
    return Parameter(name, symbol, c.value, c.lowest, c.highest, unit, c.provenance, c.source)


def model_parameters(
    drug: DrugModel,
    form: FormModel,
    packaging: PackagingModel | None,
    lamp: LampModel | None,
    joint_rate_per_lux_hour: Interval | None = None,
) -> list[Parameter]:
    """Every constant behind k_L = k_thin·κ_s·τ_pkg·F(A)·g(T)·E and k_T, and the derived F(A); with the
    joint rate of this form, state and lamp where the caller has it (the what-if's light rate)."""
    out = [
        _from("k_thin", "k_thin", "per lux·h", drug.k_thin_per_lux_hour),
        _from("effective molar absorptivity", "ε̄", "M⁻¹·cm⁻¹", drug.epsilon_per_molar_cm),
        _from("molar mass", "M", "g/mol", drug.molar_mass_g_per_mol),
        _from("concentration", "c", "mg/mL", form.concentration_mg_per_ml),
        _from("optical path", "ℓ", "cm", form.path_cm),
    ]
    a = kinetics.absorbance(drug, form)
    slow, fast = kinetics.photolysis_rate_range(drug, form)
    k_best = kinetics.photolysis_rate_per_lux_hour(drug, form)
    out.append(
        Parameter(
            "inner-filter factor",
            "F(A)",
            kinetics.inner_filter_factor(a),
            kinetics.inner_filter_factor(a),
            kinetics.inner_filter_factor(a),
            "1",
            "derived",
            f"§7: F(A) = (1 − 10^−A)/(ln 10·A) at A = ε̄·c·ℓ = {a:.4g}",
        )
    )
    out.append(
        Parameter(
            "photolysis rate before packaging and lamp",
            "k_thin·F(A)",
            k_best,
            slow,
            fast,
            "per lux·h",
            "derived",
            "§7: k_thin·F(A); the range takes k_thin, ε̄, c and ℓ at the ends of theirs"
            if form.light_rate_per_lux_hour is None
            else form.light_rate_per_lux_hour.source,
        )
    )
    if lamp is not None:
        out.append(_from(f"lamp spectrum factor ({lamp.description})", "κ_s", "1", lamp.kappa))
    if packaging is not None:
        out.append(_from(f"packaging transmittance ({packaging.description})", "τ_pkg", "1", packaging.tau))
    if joint_rate_per_lux_hour is not None:
        j = joint_rate_per_lux_hour
        out.append(
            Parameter(
                "light rate of this form, state and lamp",
                "k·κ_s·τ_pkg",
                j.best,
                j.low,
                j.high,
                "per lux·h",
                "derived",
                "photolysis integral for the combination, every drawn input and plausible calibration"
                " source at once (monitor/model/photolysis.py); the range the what-if uses, sharper than"
                " the product of the three above",
            )
        )
    if drug.light_activation_energy_kj_per_mol is not None:
        out.append(
            _from(
                "activation energy of photolysis", "Ea_L", "kJ/mol", drug.light_activation_energy_kj_per_mol
            )
        )
    out += [
        _from("activation energy (thermal)", "Ea", "kJ/mol", drug.activation_energy_kj_per_mol),
        _from("dark rate at T_ref", "k_ref", "per hour", drug.k_ref_per_hour),
        _from("reference temperature", "T_ref", "K", drug.t_ref_kelvin),
    ]
    if form.label_use_within_minutes is not None:
        out.append(_from("use within after reconstitution", "t_label", "min", form.label_use_within_minutes))
    return out
