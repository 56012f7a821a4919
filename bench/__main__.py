"""``python -m bench [--smoke] [--only NAME] [--output FILE]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.harness import render, run_all

parser = argparse.ArgumentParser(prog="python -m bench", description="vialguard benchmarks")
parser.add_argument("--smoke", action="store_true", help="tiny workloads, seconds in all")
parser.add_argument("--only", help="run only benchmark modules whose name contains this")
parser.add_argument("--output", type=Path, default=Path("BENCHMARKS.md"))
args = parser.parse_args()
figures = run_all(args.smoke, args.only)
text = render(figures, args.smoke)
args.output.parent.mkdir(parents=True, exist_ok=True)
args.output.write_text(text, encoding="utf-8")
print(text)  # the table, for the terminal
