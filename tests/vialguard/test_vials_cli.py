"""`vialguard vials list` and `vials event` on a real database, in a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pytest

from monitor.site_sync import sync_site
from monitor.store import Database
from vialguard.cli import build_parser, main
from vialguard.options import settings_from


def seed(*where: str) -> None:
    """A database as a running system leaves it: created, migrated, the site's vials registered."""
    settings = settings_from(build_parser().parse_args(["vials", "list", *where]))
    database = Database(settings.db_path)
    database.initialise()
    conn = database.connect()
    sync_site(conn, settings, time.time())
    conn.close()


def vg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vialguard", *args], capture_output=True, text=True, timeout=60, check=False
    )


def site_with_worst_case(tmp_path: Path) -> str:
    """The shipped simulated site with a worst case of 10 lx for light its sensor has not seen."""
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    path = tmp_path / "site.toml"
    path.write_text(
        text.replace('kind = "fridge"\n', 'kind = "fridge"\nworst_case_lux = 10.0\n', 1), encoding="utf-8"
    )
    return str(path)


def test_without_any_light_data_the_low_bound_is_zero(tmp_path: Path) -> None:
    """Before any reading and with no worst case, nothing bounds the light: the low bound is 0 %."""
    db = str(tmp_path / "v.db")
    seed("--simulate", "--db", db)
    listed = vg("vials", "list", "--json", "--simulate", "--db", db)
    infusion = next(r for r in json.loads(listed.stdout) if r["key"] == "infusion-0001")
    assert infusion["potency_percent"]["best"] == 100.0
    assert infusion["potency_percent"]["low"] == 0.0


def test_event_then_list_shows_the_change(tmp_path: Path) -> None:
    """An event recorded from the command line shows in `vials list --json` (packaging, label limit)."""
    db = str(tmp_path / "v.db")
    config = site_with_worst_case(tmp_path)
    done = vg(
        "vials", "event", "roze-0002", "reconstituted", "--config", config, "--db", db, "--detail", "ward 3"
    )
    assert done.returncode == 0, done.stderr
    assert "roze-0002: reconstituted recorded; potency 100.00 %" in done.stdout
    moved = vg(
        "vials",
        "event",
        "roze-0002",
        "packaging-changed",
        "--packaging",
        "syringe",
        "--config",
        config,
        "--db",
        db,
    )
    assert moved.returncode == 0, moved.stderr
    listed = vg("vials", "list", "--json", "--config", config, "--db", db)
    assert listed.returncode == 0, listed.stderr
    roze = next(r for r in json.loads(listed.stdout) if r["key"] == "roze-0002")
    assert roze["packaging"] == "syringe"
    v = roze["verdict"]
    assert (v["verdict"], v["limited_by"], v["basis"]) == ("use", "label", "low bound")
    assert 0.9 < v["hours_left"] <= 1.0
    assert v["time_left"].endswith("min (label limit after reconstitution)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["roze-0001", "moved"], "location: required for a moved event"),
        (
            ["roze-0001", "moved", "--location", "bench"],
            "location: unknown location 'bench'; known: fridge-1",
        ),
        (
            ["roze-0001", "discarded", "--at", "2026-11-25T09:10:00"],
            "--at: '2026-11-25T09:10:00' needs a time zone",
        ),
        (["roze-0001", "discarded", "--at", "yesterday"], "--at: 'yesterday' is not an ISO 8601 time"),
        (["roze-0001", "discarded", "--ago", "2h"], "before the vial was registered"),
        (["roze-0001", "discarded", "--at", "9999-12-31T23:00:00-05:00"], "at: (not a date"),
        (["roze-0001", "discarded", "--at", "0001-01-01T00:30:00+01:00"], "outside the accepted times"),
        (["roze-9999", "discarded"], "no vial with key 'roze-9999'"),
    ],
    ids=[
        "no-location",
        "unknown-location",
        "naive-time",
        "not-a-time",
        "before-registration",
        "year-9999-behind-utc",
        "year-1-ahead-of-utc",
        "unknown-vial",
    ],
)
def test_bad_event_exits_2_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """A refused event exits 2 with a message naming the field, and the list still shows the vial active."""
    db = str(tmp_path / "v.db")
    assert main(["vials", "event", *args, "--simulate", "--db", db]) == 2
    assert message in capsys.readouterr().err
    assert main(["vials", "list", "--simulate", "--db", db, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(r["status"] == "active" for r in rows)
