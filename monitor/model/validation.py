"""The model against the reference's data: every observation with its predicted band, and product checks.

Each observation of photokinetics.md §2 is predicted through :func:`monitor.model.whatif.predict`, the
path ``vialguard predict`` and the live model share, once per configured lamp type: the calibration series
must lie inside the band whatever lamp a site names (the source's lamp is unknown). The product checks give
the lux·h to 90 % of each form in its usual states with its range, and the label's limit. Pure: the text is
returned, ``vialguard validate`` writes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitor.model import whatif
from monitor.model.profiles import Catalog

DRUG = "mecobalamin"
CELSIUS = 25.0
# Each form in the states it is usually met in, for the product checks.
PRODUCT_STATES = {
    "dilute-infusion": ("infusion-container", "shielding-cover"),
    "methycobal-500ug-ampoule": ("amber-glass", "in-carton"),
    "rozebalamin-25mg": ("window-open", "syringe", "light-protected-vial", "powder-in-vial", "in-carton"),
}
DILUTE_ERROR_LIMIT_POINTS = 4.0


@dataclass(frozen=True, slots=True)
class Observation:
    lamp: str
    label: str
    hours: float
    observed_percent: float
    best: float
    low: float
    high: float

    @property
    def inside(self) -> bool:
        return self.low <= self.observed_percent <= self.high

    @property
    def error_points(self) -> float:
        return self.best - self.observed_percent


def _final(
    catalog: Catalog, form: str, packaging: str, lamp: str, lux: float, hours: float
) -> whatif.Prediction:
    case = whatif.case_of(catalog, DRUG, catalog.form(DRUG, form), packaging, lamp)
    t, e, c = whatif.constant_series(lux, hours, CELSIUS)
    return whatif.predict(case, t, e, c, points=2)


def calibration_observations(catalog: Catalog) -> list[Observation]:
    """V1-V3 under every configurable lamp type (those given as spectra)."""
    cal = catalog.lights[DRUG].calibration
    out: list[Observation] = []
    for lamp, model in catalog.lamps.items():
        if not model.spectra:
            continue
        for i, point in enumerate(cal.series, start=1):
            final = _final(catalog, cal.form, cal.packaging, lamp, cal.lux.value, point.hours).final.percent
            out.append(
                Observation(lamp, f"V{i}", point.hours, point.percent, final.best, final.low, final.high)
            )
    return out


@dataclass(frozen=True, slots=True)
class ProductCheck:
    form: str
    packaging: str
    lux_hours_best: float
    lux_hours_low: float  # soonest
    lux_hours_high: float  # latest
    label_minutes: float | None


def product_checks(
    catalog: Catalog, lamp: str = "fluorescent-cool-white", lux: float = 500.0
) -> list[ProductCheck]:
    out: list[ProductCheck] = []
    for form, states in PRODUCT_STATES.items():
        label = catalog.form(DRUG, form).label_use_within_minutes
        for state in states:
            h = _final(catalog, form, state, lamp, lux, 1.0).hours_to_threshold
            out.append(
                ProductCheck(
                    form,
                    state,
                    h.best * lux,
                    h.low * lux,
                    h.high * lux,
                    None if label is None else label.value,
                )
            )
    return out


def _lux_hours(x: float) -> str:
    return "never" if math.isinf(x) else f"{x:,.0f}"


def report(catalog: Catalog) -> str:
    """docs/validation.md's text."""
    obs = calibration_observations(catalog)
    inside = sum(o.inside for o in obs)
    worst = max(abs(o.error_points) for o in obs if o.lamp == "fluorescent-cool-white")
    lines = [
        "# Validation of the potency model against the reference data",
        "",
        "Written by `vialguard validate` from the shipped profiles and spectral data; do not edit by hand.",
        "Every observation of photokinetics.md §2 is predicted through the same path as `vialguard predict`",
        "and the live model (`monitor.model.whatif.predict`), 25 °C, with its best value and its band",
        "(low-high). The source's lamp is unknown, so the calibration series is predicted under every",
        "configurable lamp type: it must lie inside the band under each.",
        "",
        f"**Coverage: {inside} of {len(obs)} observation-lamp pairs inside the band.**",
        f"Largest error of the best estimate under the reference lamp (FL2): {worst:.1f} points"
        f" (limit {DILUTE_ERROR_LIMIT_POINTS:g}).",
        "",
        "## Calibration series (V1-V3: MeCbl 500 µg in 250 mL saline, 500 lx, infusion container)",
        "",
        "| Lamp | Point | Hours | Observed % | Best % | Band % | Error (points) | Inside |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in obs:
        lines.append(
            f"| {o.lamp} | {o.label} | {o.hours:g} | {o.observed_percent:.1f} | {o.best:.1f} |"
            f" {o.low:.1f}-{o.high:.1f} | {o.error_points:+.1f} | {'yes' if o.inside else '**no**'} |"
        )
    dark = _final(catalog, "dilute-infusion", "infusion-container", "fluorescent-cool-white", 0.0, 2.0)
    d = dark.final.percent
    lines += [
        "",
        "## Other observations",
        "",
        "| # | Observation | Prediction | Agrees |",
        "|---|---|---|---|",
        f"| V4 | dark control 100.3 % after about 2 h | {d.best:.2f} % ({d.low:.2f}-{d.high:.2f}); within the"
        " assay's ±1 % | yes |",
    ]
    amber = _final(catalog, "methycobal-500ug-ampoule", "amber-glass", "fluorescent-cool-white", 500.0, 1.0)
    a = amber.final.percent
    lines.append(
        f"| V8 | Methycobal's bare amber ampoule photolyses (insert) | 1 h at 500 lx: {a.best:.1f} %"
        f" ({a.low:.1f}-{a.high:.1f}) | {'yes' if a.best < 99.0 else 'no'} |"
    )
    cover = _final(catalog, "dilute-infusion", "shielding-cover", "fluorescent-cool-white", 500.0, 1.0)
    c = cover.final.percent
    lines.append(
        f"| V9 | diluted MeCbl loses much content even under the shielding cover | 1 h at 500 lx:"
        f" {c.best:.1f} % ({c.low:.1f}-{c.high:.1f}) | {'yes' if c.best < 90.0 else 'no'} |"
    )
    lines += [
        "| V14 | tablets, dark, 40 °C, 6 months: no change | solid dosage forms are not modelled | - |",
        "",
        "## Product checks: lux·h to 90 % under cool-white fluorescent light",
        "",
        "Soonest-latest is the band's range (the verdict reads the soonest).",
        "",
        "| Form | State | Lux·h to 90 %, best | Soonest-latest | Label limit after reconstitution |",
        "|---|---|---|---|---|",
    ]
    for p in product_checks(catalog):
        label = "-" if p.label_minutes is None else f"{p.label_minutes:g} min"
        lines.append(
            f"| {p.form} | {p.packaging} | {_lux_hours(p.lux_hours_best)} |"
            f" {_lux_hours(p.lux_hours_low)}-{_lux_hours(p.lux_hours_high)} | {label} |"
        )
    light = catalog.lights[DRUG]
    lines += [
        "",
        "## Calibration",
        "",
        f"- First-order k of V1-V3 through the origin: {light.fit.best:.4f} h⁻¹ (standard error"
        f" {light.fit.standard_error:.4f}); range {light.fit.low:.3f}-{light.fit.high:.3f} h⁻¹ (the 500 mL"
        " series' 0.707 less two standard errors, to V1's own k).",
        f"- Quantum yield fitted under the assumed source (FL2): Φ = {light.quantum_yield():.4f}.",
        f"- {light.calibration.source_spectrum_note}.",
        f"- {light.calibration.quantum_yield_note}.",
        "",
    ]
    return "\n".join(lines)
