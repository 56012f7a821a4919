"""``vialguard predict``: what would this light, for this long, do to this vial? The live model, offline.

    vialguard predict --form rozebalamin-25mg --packaging window-open --lux 500 --hours 2
    vialguard predict --concentration-mg-ml 0.002 --path-cm 1 --lux 500 --hours 2 --json
    vialguard predict --form dilute-infusion --packaging infusion-container --readings day.csv

Without ``--form``, ``--concentration-mg-ml`` and ``--path-cm`` describe a solution in its own infusion
container, as the calibration series was measured (photokinetics.md §7); its rate comes from the photolysis
integral at that concentration and path (monitor/model/photolysis.py).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from monitor.alerts.rules import RuleThresholds
from monitor.errors import ConfigError
from monitor.model import verdict, whatif
from monitor.model.parameters import model_parameters
from monitor.model.profiles import UNKNOWN_LAMP, Catalog, Constant, FormModel, load_catalog
from vialguard.options import add_options

# The packaging of a solution given by concentration and path: its own clear infusion container, as the
# calibration series was measured (§2, spectral_model.toml [calibration]).
BARE_PACKAGING = "infusion-container"


def _number(text: str, what: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{where}: {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"{where}: {what} {text!r} is not a finite number")
    return value


def _seconds(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{where}: time {text!r} is neither seconds nor an ISO 8601 time") from None
    if at.tzinfo is None:
        raise ConfigError(f"{where}: time {text!r} needs a time zone")
    return at.timestamp()


def read_series(path: Path, default_celsius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``time,lux[,celsius]`` rows (a header line is allowed); time in seconds or ISO 8601 with a zone."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read readings: {exc.strerror}") from exc
    t: list[float] = []
    lux: list[float] = []
    celsius: list[float] = []
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip():
            continue
        where = f"{path}:{n}"
        if n == 1 and row[0].strip().lower() in ("time", "ts", "seconds", "t"):
            continue
        if len(row) not in (2, 3):
            raise ConfigError(f"{where}: expected time,lux[,celsius], got {len(row)} fields")
        t.append(_seconds(row[0].strip(), where))
        value = _number(row[1].strip(), "lux", where)
        if value < 0:
            raise ConfigError(f"{where}: lux {value:g} is negative")
        lux.append(value)
        celsius.append(_number(row[2].strip(), "celsius", where) if len(row) == 3 else default_celsius)
        if len(t) > 1 and t[-1] <= t[-2]:
            raise ConfigError(f"{where}: time {row[0].strip()!r} does not come after the previous row's")
    if len(t) < 2:
        raise ConfigError(f"{path}: needs at least two readings")
    return np.array(t), np.array(lux), np.array(celsius)


def _case(args: argparse.Namespace, catalog: Catalog) -> whatif.Case:
    catalog.drug(args.drug)  # an unknown drug is named before its form
    custom = args.concentration_mg_ml is not None or args.path_cm is not None
    if args.form is None:
        if args.concentration_mg_ml is None or args.path_cm is None:
            raise ConfigError("--form, or both --concentration-mg-ml and --path-cm, are needed")
        form = FormModel(
            description=f"bare solution, {args.concentration_mg_ml:g} mg/mL, {args.path_cm:g} cm",
            concentration_mg_per_ml=Constant(
                value=args.concentration_mg_ml, provenance="assumed", source="given on the command line"
            ),
            path_cm=Constant(value=args.path_cm, provenance="assumed", source="given on the command line"),
        )
    else:
        form = catalog.form(args.drug, args.form)
        if custom:
            update: dict[str, Any] = {}
            if args.concentration_mg_ml is not None:
                update["concentration_mg_per_ml"] = Constant(
                    value=args.concentration_mg_ml, provenance="assumed", source="given on the command line"
                )
            if args.path_cm is not None:
                update["path_cm"] = Constant(
                    value=args.path_cm, provenance="assumed", source="given on the command line"
                )
            form = form.model_copy(update=update)
    if custom:
        form = catalog.with_light_rate(args.drug, form)
    packaging_key = args.packaging or (BARE_PACKAGING if args.form is None else None)
    if packaging_key is None:
        raise ConfigError(
            "--packaging (or --state) is needed with --form: e.g. in-carton, window-open, syringe"
        )
    return whatif.case_of(catalog, args.drug, form, packaging_key, args.lamp, args.initial_percent)


def _finite(x: float) -> float | None:
    return None if math.isinf(x) else round(x, 4)


def cmd_predict(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.profiles)
    if args.concentration_mg_ml is not None and args.concentration_mg_ml < 0:
        raise ConfigError(f"--concentration-mg-ml must not be negative, got {args.concentration_mg_ml:g}")
    if args.path_cm is not None and args.path_cm <= 0:
        raise ConfigError(f"--path-cm must be positive, got {args.path_cm:g}")
    if not 0 < args.threshold < args.initial_percent:
        raise ConfigError(f"--threshold must lie between 0 and the initial {args.initial_percent:g} %")
    case = _case(args, catalog)
    if args.readings is not None:
        if args.lux is not None or args.hours is not None:
            raise ConfigError("--readings replaces --lux and --hours: give one or the other")
        t, lux, celsius = read_series(args.readings, args.celsius)
    else:
        if args.lux is None or args.hours is None:
            raise ConfigError("--lux and --hours are needed (or --readings FILE.csv)")
        if args.lux < 0:
            raise ConfigError(f"--lux must not be negative, got {args.lux:g}")
        if args.hours <= 0:
            raise ConfigError(f"--hours must be positive, got {args.hours:g}")
        t, lux, celsius = whatif.constant_series(args.lux, args.hours, args.celsius)
    if not args.threshold < args.warning:
        raise ConfigError(f"--warning {args.warning:g} must lie above --threshold {args.threshold:g}")
    result = whatif.predict(case, t, lux, celsius, args.threshold, args.points)
    hours = result.hours_to_threshold
    label = case.form.label_use_within_minutes
    limit = label.value / 60.0 if args.reconstituted and label is not None else None
    final = result.final
    # The verdict at the end of the series, as the live system would give it then (the same function,
    # the same basis: the low bound), with the last conditions held.
    span_hours = float(t[-1] - t[0]) / 3600.0
    judged = verdict.decide(
        verdict.Evidence(
            low_percent=final.percent.low,
            model_hours_low=max(hours.low - span_hours, 0.0),
            label_deadline_ts=None if limit is None else limit * 3600.0,
        ),
        verdict.Thresholds(args.warning, args.threshold),
        now=span_hours * 3600.0,
    )
    parameters = model_parameters(
        case.drug, case.form, case.packaging, case.lamp, case.joint_rate_per_lux_hour
    )
    if args.json:
        out = {
            "potency_percent": {
                "best": round(final.percent.best, 4),
                "low": round(final.percent.low, 4),
                "high": round(final.percent.high, 4),
            },
            "effective_lux_hours": round(final.effective_lux_hours.best, 4),
            "hours": round(span_hours, 4),
            "verdict": judged.facts(),
            "hours_to_threshold": {
                "threshold_percent": args.threshold,
                "best": _finite(hours.best),
                "low": _finite(hours.low),
                "high": _finite(hours.high),
                "label_limit_hours": limit,
            },
            "trajectory": [
                {
                    "hours": round(p.hours, 4),
                    "effective_lux_hours": round(p.potency.effective_lux_hours.best, 4),
                    "potency_percent": {
                        "best": round(p.potency.percent.best, 4),
                        "low": round(p.potency.percent.low, 4),
                        "high": round(p.potency.percent.high, 4),
                    },
                }
                for p in result.trajectory
            ],
            "parameters": {
                p.symbol: {
                    "name": p.name,
                    "value": p.value,
                    "low": p.low,
                    "high": p.high,
                    "unit": p.unit,
                    "provenance": p.provenance,
                    "source": p.source,
                }
                for p in parameters
            },
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))  # noqa: T201  # command output
        return 0
    lines = [
        f"{case.drug.name}: {case.form.description}; {case.packaging.description};"
        f" lamp: {case.lamp.description}",
        f"{'hours':>8}  {'eff. lux·h':>11}  potency % of label: best (low-high)",
    ]
    for point in result.trajectory:
        r = point.potency
        lines.append(
            f"{point.hours:8.3f}  {r.effective_lux_hours.best:11.2f}  {r.percent.best:7.2f}"
            f" ({r.percent.low:.2f}-{r.percent.high:.2f})"
        )

    def h(x: float) -> str:
        return "never at these conditions" if math.isinf(x) else f"{x:.3g} h"

    lines.append(
        f"model time to {args.threshold:g} % from the start: {h(hours.best)}"
        f" (as soon as {h(hours.low)}, as late as {h(hours.high)})"
    )
    if limit is not None:
        lines.append(f"label: use within {limit * 60:g} min of reconstitution")
    lines.append(
        f"verdict after {span_hours:.3g} h: {judged.label} ({judged.reason}); time left then:"
        f" {judged.time_left_text()}"
    )
    lines.append("parameters (provenance):")
    for x in parameters:
        span = "" if x.low == x.high else f" [{x.low:.4g}-{x.high:.4g}]"
        lines.append(f"  {x.symbol:<12} {x.value:<10.4g}{span} {x.unit}  {x.provenance}: {x.source}")
    print("\n".join(lines))  # noqa: T201  # command output
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="what-if: potency best/low/high under given light and temperature, and time to 90 %%",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--drug", default="mecobalamin", help="drug profile (default mecobalamin)")
    p.add_argument("--form", help="form of the drug, e.g. rozebalamin-25mg, methycobal-500ug-ampoule")
    p.add_argument(
        "--packaging",
        "--state",
        dest="packaging",
        help="packaging state, e.g. in-carton, window-open, syringe",
    )
    p.add_argument("--lamp", default=UNKNOWN_LAMP, help="lamp type, e.g. led-4000k (default: unknown)")
    p.add_argument("--lux", type=float, help="constant illuminance at the vial, lx")
    p.add_argument("--hours", type=float, help="for this long")
    p.add_argument("--celsius", type=float, default=25.0, help="temperature, °C (default 25)")
    p.add_argument("--readings", type=Path, help="CSV of time,lux[,celsius] instead of --lux/--hours")
    p.add_argument("--concentration-mg-ml", type=float, help="concentration, mg/mL (overrides the form's)")
    p.add_argument("--path-cm", type=float, help="optical path, cm (overrides the form's)")
    p.add_argument("--initial-percent", type=float, default=100.0, help="assay at the start, %% of label")
    defaults = RuleThresholds()
    p.add_argument(
        "--threshold",
        type=float,
        default=defaults.potency_critical_percent,
        help="critical potency threshold, %% of label: below it, do not use (default %(default)g)",
    )
    p.add_argument(
        "--warning",
        type=float,
        default=defaults.potency_warning_percent,
        help="warning potency threshold, %% of label: below it, watch (default %(default)g)",
    )
    p.add_argument(
        "--reconstituted", action="store_true", help="reconstituted at the start: the label's limit applies"
    )
    p.add_argument("--points", type=int, default=9, help="rows of the trajectory (default 9)")
    p.add_argument("--profiles", type=Path, help="extra drug profiles TOML, as the site's drug_profiles_file")
    add_options(p, "json")
    p.set_defaults(func=cmd_predict)
