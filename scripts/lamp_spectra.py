"""Regenerate (or, with --check, verify) hardware/data/lamp_spectra.csv from colour-science 0.4.7.

Not a runtime dependency: run it in a throwaway environment,
``python -m venv /tmp/cs && /tmp/cs/bin/pip install colour-science==0.4.7 && /tmp/cs/bin/python
scripts/lamp_spectra.py --check``. Columns: nm (300-780 at 5 nm), V (CIE 1924 photopic V(λ)), and the CIE
sources of the photokinetics reference §6; a source whose table starts later (FL, LED: 380 nm) is 0 below.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import colour  # type: ignore[import-not-found]  # only in the throwaway environment

SOURCES = ("D65", "ID65", "A", "FL2", "FL4", "FL11", "LED-B1", "LED-B3", "LED-B5")
OUT = Path(__file__).resolve().parent.parent / "hardware" / "data" / "lamp_spectra.csv"


def _at(sd: object, nm: float) -> float:
    domain = sd.domain  # type: ignore[attr-defined]
    return float(sd[nm]) if domain[0] <= nm <= domain[-1] else 0.0  # type: ignore[index]


def rows() -> list[list[str]]:
    v = colour.colorimetry.SDS_LEFS_PHOTOPIC["CIE 1924 Photopic Standard Observer"]
    out = [["nm", "V", *SOURCES]]
    for nm in range(300, 781, 5):
        values = [_at(v, nm), *(_at(colour.SDS_ILLUMINANTS[s], nm) for s in SOURCES)]
        out.append([str(nm), *(f"{x:g}" for x in values)])
    return out


def main() -> int:
    fresh = rows()
    if "--check" in sys.argv:
        with OUT.open(encoding="utf-8") as f:
            shipped = list(csv.reader(f))
        bad = [
            (a[0], b[0])
            for a, b in zip(shipped, fresh, strict=True)
            if a[0] == "nm" or any(abs(float(x) - float(y)) > 1e-6 for x, y in zip(a[1:], b[1:], strict=True))
        ][1:]
        sys.stdout.write("identical\n" if not bad else f"differs at {bad}\n")
        return 1 if bad else 0
    with OUT.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
