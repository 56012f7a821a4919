"""What a production install gets: the built wheel (non-editable) with every runtime file and no development
tools, and systemd units that run the venv `make install-pi` fills."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
UNITS = sorted((REPO / "deploy" / "systemd").glob("*.service"))


def _make_variable(name: str) -> str:
    match = re.search(rf"^{name} \?= (\S+)$", (REPO / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert match is not None, f"Makefile sets no {name}"
    return match.group(1)


def _recipe(target: str) -> list[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match is not None, f"Makefile has no {target} recipe"
    return [line.strip() for line in match.group(1).splitlines()]


def test_units_run_the_production_venv() -> None:
    """Every unit starts `vialguard` from the venv `make install-pi` fills, never the development .venv."""
    venv = _make_variable("PI_VENV")
    assert UNITS
    for unit in UNITS:
        starts = [x for x in unit.read_text(encoding="utf-8").splitlines() if x.startswith("ExecStart=")]
        assert starts, unit.name
        for line in starts:  # directly, or through a shell that names the day's backup file
            assert line.startswith(
                (f"ExecStart={venv}/bin/vialguard ", f"ExecStart=/bin/sh -c 'exec {venv}/bin/vialguard ")
            ), (unit.name, line)


def test_install_pi_is_non_editable_and_runtime_only() -> None:
    """`make install-pi` installs the tree as a built package (no -e) without the dev extra."""
    pip = [x for x in _recipe("install-pi") if " pip install " in x]
    assert len(pip) == 1
    assert pip[0].endswith(" .")
    assert " -e " not in pip[0]
    assert "[dev]" not in pip[0]


def test_make_run_installs_the_runtime_only() -> None:
    """`make run` waits for the runtime install alone; `make test` (through install) adds the dev extra."""
    run = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run: install-runtime$", run, re.MULTILINE)
    assert re.search(r"^lint: install$", run, re.MULTILINE)
    assert re.search(r"^pytest: install system-deps$", run, re.MULTILINE)


@pytest.mark.slow
def test_the_wheel_holds_every_runtime_file_and_no_dev_requirement(tmp_path: Path) -> None:
    """The wheel a Pi installs carries the fonts and their licence, the dashboard, the data files; its
    requirements name the development tools only under the `dev` extra."""
    # A copy of the tree, so the build writes nothing into the working copy; offline, with the setuptools
    # and wheel of the dev extra.
    tree = tmp_path / "tree"
    skip = shutil.ignore_patterns(".*", "var", "venv", "build", "*.egg-info", "__pycache__")
    shutil.copytree(REPO, tree, ignore=skip)
    offline = ["--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *offline, "--wheel-dir", str(tmp_path), str(tree)],
        check=True,
        timeout=300,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("vialguard-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        (metadata,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(z.read(metadata).decode())
    for needed in (
        "api/reports/fonts/DejaVuSansCondensed.ttf",
        "api/reports/fonts/DejaVuSansCondensed-Bold.ttf",
        "api/reports/fonts/DejaVuSansCondensed-Oblique.ttf",
        "api/reports/fonts/LICENSE",
        "api/static/index.html",
        "monitor/data/drug_profiles.toml",
        "vialguard/data/simulated.toml",
    ):
        assert needed in names, needed
    assert not any(n.startswith("tests/") for n in names)
    requires = meta.get_all("Requires-Dist") or []
    dev_tools = ("pytest", "mypy", "ruff", "hypothesis", "schemathesis", "playwright")
    for requirement in requires:
        name = re.split(r"[ ;<>=!~\[]", requirement, maxsplit=1)[0].lower()
        if name in dev_tools:
            assert 'extra == "dev"' in requirement, requirement
    assert any(r.startswith("numpy") and "extra" not in r for r in requires)
