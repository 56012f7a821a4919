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
        ("fleet", {"monitor", "hardware"}),
    ],
)
def test_packages_import_only_downstream(package: str, may_import: set[str]) -> None:
    """hardware and monitor import nothing of ours; api, firmware_bridge and fleet only monitor and
    hardware."""
    ours = {"hardware", "monitor", "firmware_bridge", "api", "fleet", "vialguard"}
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


OURS = ("hardware", "monitor", "firmware_bridge", "api", "fleet", "vialguard")
# The pure core: numbers in, numbers out. No connection, no store, no clock.
PURE_PACKAGES = ("monitor/model", "monitor/alerts")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every module of ours and the modules of ours it imports, anywhere in its text."""
    modules = {_module_name(p): p for pkg in OURS for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_nothing_imports_in_a_circle() -> None:
    """No module of ours reaches itself through its imports (lazy and type-checking ones count too)."""
    graph = _imports()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_the_pure_core_touches_no_store(package: str) -> None:
    """The model and the alerts import neither sqlite3 nor the store: data comes in as values."""
    offending = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offending += [
                f"{path.relative_to(ROOT)}: {n}"
                for n in names
                if n == "sqlite3" or n.startswith("monitor.store")
            ]
    assert offending == []


def test_the_store_does_not_reach_up_to_the_engine() -> None:
    """The store sits below the engine: no module of monitor/store imports monitor.engine (the spool
    keeps batches by their own types, monitor.batch)."""
    graph = _imports()
    offending = sorted(
        f"{module}: {name}"
        for module, imported in graph.items()
        if module.startswith("monitor.store")
        for name in imported
        if name.startswith("monitor.engine")
    )
    assert offending == []


def test_no_module_in_monitor_is_over_400_lines() -> None:
    """Small modules, one concept each: past 400 lines a module holds two."""
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "monitor").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


# The API reaches the database through the store's interface, so another backend can serve it; the one
# module that builds the SQLite store (and may name it) is the composition root.
STORE_COMPOSITION_ROOT = "api/startup.py"
STORE_INTERFACE = "monitor.store.ports"


def _imported_names(path: Path) -> list[str]:
    """Everything a module imports, fully named: ``from a.b import c`` is ``a.b.c``."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [f"{node.module}.{a.name}" for a in node.names]
    return names


def _reaches_past_the_interface(name: str) -> bool:
    def within(package: str) -> bool:
        return name == package or name.startswith(f"{package}.")

    return within("sqlite3") or (within("monitor.store") and not within(STORE_INTERFACE))


def test_the_api_reaches_the_store_only_through_its_interface() -> None:
    """api/ imports neither sqlite3 nor monitor.store beyond its ports, but in the composition root."""
    assert (ROOT / STORE_COMPOSITION_ROOT).is_file()
    offending = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "api").rglob("*.py")
        if path.relative_to(ROOT).as_posix() != STORE_COMPOSITION_ROOT
        for name in _imported_names(path)
        if _reaches_past_the_interface(name)
    ]
    assert offending == []


@pytest.mark.parametrize(
    ("name", "past"),
    [
        ("sqlite3", True),
        ("sqlite3.Connection", True),
        ("monitor.store", True),
        ("monitor.store.Database", True),
        ("monitor.store.sqlite_store.SqliteStore", True),
        ("monitor.store.ports", False),
        ("monitor.store.ports.Store", False),
        ("monitor.storage_health", False),
        ("monitor.assessment.VialAssessment", False),
    ],
)
def test_the_interface_rule_tells_the_store_from_its_ports(name: str, past: bool) -> None:
    """The rule catches every way of naming SQLite or the store's modules, and lets the ports through."""
    assert _reaches_past_the_interface(name) is past


def test_uplink_and_central_share_only_the_protocol() -> None:
    """The Pi's uplink never reaches central's code; central never reaches the uplink's."""
    graph = _imports()

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [m for m in graph if m.startswith(start)]
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo += graph[m]
        return seen

    assert {m for m in reach("fleet.uplink") if m.startswith("fleet.central")} == set()
    assert {m for m in reach("fleet.central") if m.startswith("fleet.uplink")} == set()


def test_importing_the_uplink_pulls_in_no_database_driver() -> None:
    """`fleet.uplink` runs on the Pi: importing it loads neither psycopg nor fastapi."""
    code = (
        "import pkgutil, importlib, sys, fleet.uplink\n"
        "for m in pkgutil.walk_packages(fleet.uplink.__path__, 'fleet.uplink.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('\\n'.join(sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert [m for m in loaded.stdout.split() if m.split(".")[0] in ("psycopg", "fastapi")] == []
