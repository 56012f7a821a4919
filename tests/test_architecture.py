"""Imports point one way: monitor and hardware stay free of the web, serial and bus libraries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_MONITOR = ("fastapi", "starlette", "uvicorn", "serial", "board", "busio", "adafruit")


def test_importing_monitor_pulls_in_no_io_library() -> None:
    """`import monitor` and all its modules load none of fastapi, serial, board, busio, adafruit_*."""
    code = (
        "import pkgutil, importlib, sys, monitor\n"
        "for m in pkgutil.walk_packages(monitor.__path__, 'monitor.'): importlib.import_module(m.name)\n"
        "print('\\n'.join(sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    bad = [m for m in loaded.stdout.split() if m.split(".")[0].startswith(FORBIDDEN_IN_MONITOR)]
    assert bad == []


@pytest.mark.parametrize(
    ("package", "may_import"),
    [
        ("hardware", set()),
        ("monitor", set()),
        ("firmware_bridge", {"monitor", "hardware"}),
        ("api", {"monitor", "hardware"}),
    ],
)
def test_packages_import_only_downstream(package: str, may_import: set[str]) -> None:
    """hardware and monitor import nothing of ours; api and firmware_bridge only monitor and hardware."""
    ours = {"hardware", "monitor", "firmware_bridge", "api", "vialguard"}
    offending = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in ours and top != package and top not in may_import:
                    offending.append(f"{path.relative_to(ROOT)}: {name}")
    assert offending == []
