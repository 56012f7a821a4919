"""vialguard's version: read from the installed package's metadata, so pyproject.toml is its one place."""

from __future__ import annotations

from importlib import metadata


def version() -> str:
    """The version pyproject.toml declares; ``0+unknown`` when run from a tree that was never installed."""
    try:
        return metadata.version("vialguard")
    except metadata.PackageNotFoundError:
        return "0+unknown"
