"""`vialguard sensors read` shows a spectral or UV chip's channels beside its lux."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vialguard.cli import main

SITE = """
[[locations]]
key = "fridge-1"
name = "Fridge"

[[sensors]]
key = "spectrum"
location = "fridge-1"
quantity = "light"
driver = "as7341"

[[sensors]]
key = "uv"
location = "fridge-1"
quantity = "light"
driver = "ltr390"

[simulation]
lamp = "daylight-window"
openings_per_day = 0.0  # the read is at the wall clock's now: no door opening may fall on it
"""


@pytest.fixture
def site(tmp_path: Path) -> list[str]:
    path = tmp_path / "site.toml"
    path.write_text(SITE, encoding="utf-8")
    return ["--simulate", "--config", str(path)]


def test_sensors_read_json_has_the_channels(site: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """JSON rows carry each chip's named channel counts, settings, near-UV estimate and κ_s (none in
    the dark)."""
    assert main(["sensors", "read", "--json", *site]) == 0
    rows = {r["sensor"]: r for r in json.loads(capsys.readouterr().out)}
    spectrum = rows["spectrum"]["spectrum"]
    assert list(spectrum["counts"]) == [
        "F1_415", "F2_445", "F3_480", "F4_515", "F5_555", "F6_590", "F7_630", "F8_680", "clear", "NIR_910",
    ]  # fmt: skip
    assert spectrum["kappa"] is None  # a dark fridge has no spectrum to weigh
    assert spectrum["near_uv_w_per_m2"] is None
    uv = rows["uv"]["spectrum"]
    assert list(uv["counts"]) == ["uvs"]
    assert uv["near_uv_w_per_m2"] == 0.0


def test_sensors_read_text_shows_channels_and_near_uv(
    site: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The text listing adds a line of channel counts, and the UV chip's near-UV estimate."""
    assert main(["sensors", "read", *site]) == 0
    out = capsys.readouterr().out
    assert "F1_415=" in out
    assert "near-UV 0 W/m² (estimate)" in out
