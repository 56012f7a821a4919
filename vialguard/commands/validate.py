"""``vialguard validate``: write docs/validation.md, the model against the reference's data.

vialguard validate                       # writes docs/validation.md
vialguard validate --output report.md --profiles site.toml
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.model.profiles import load_catalog
from monitor.model.validation import calibration_observations, report
from vialguard.options import add_options

DEFAULT_OUTPUT = Path("docs/validation.md")


def cmd_validate(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.profiles)
    text = report(catalog)
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{args.output}: cannot write the report: {exc.strerror}") from exc
    obs = calibration_observations(catalog)
    inside = sum(o.inside for o in obs)
    if args.json:
        out = {"output": str(args.output), "inside": inside, "observations": len(obs)}
        print(json.dumps(out))  # noqa: T201  # command output
    else:
        print(f"{args.output}: {inside} of {len(obs)} observations inside the band")  # noqa: T201  # command output
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="write docs/validation.md: every reference observation against the model's band",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write (default %(default)s)")
    p.add_argument("--profiles", type=Path, help="extra drug profiles TOML, as the site's drug_profiles_file")
    add_options(p, "json")
    p.set_defaults(func=cmd_validate)
