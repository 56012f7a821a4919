"""Shared fixtures: settings on a real SQLite file in tmp_path, a manual clock, the catalog."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from hardware.clock import ManualClock
from monitor.config import Settings, parse_settings
from monitor.model.profiles import Catalog, load_catalog

# No property test is timed: Hypothesis's per-example deadline (200 ms) is a timing assertion, and a
# loaded two-core CI machine breaks it now and then (speed is measured in bench/, not here).
hypothesis_settings.register_profile("vialguard", deadline=None)
hypothesis_settings.load_profile("vialguard")


def simulated_raw() -> dict[str, Any]:
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shipped simulated site, on a database file in tmp_path."""
    return parse_settings(simulated_raw(), "simulated.toml", {"db_path": tmp_path / "vialguard.db"})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``hardware`` need real sensors on a Pi: skipped unless VIALGUARD_HARDWARE=1."""
    import os

    if os.environ.get("VIALGUARD_HARDWARE") == "1":
        return
    skip = pytest.mark.skip(reason="needs real sensors on a Raspberry Pi; set VIALGUARD_HARDWARE=1")
    for item in items:
        if item.get_closest_marker("hardware") is not None:
            item.add_marker(skip)
