"""The command line as a newcomer meets it: every help page, the version, the options each command offers,
JSON results, exit statuses, a closed pipe, one-line errors, the banner's commands, environment defaults
and the log level."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from argparse import Namespace
from importlib import metadata
from pathlib import Path

import pytest

from monitor.config import Settings
from monitor.store import Database
from vialguard import exits
from vialguard.cli import build_parser, main, subcommands
from vialguard.commands.processes import banner
from vialguard.options import CONFIG_ENV, DB_ENV, settings_from

REPO = Path(__file__).parents[2]
COMMANDS = [path for path, _ in subcommands(build_parser())]
LEAVES = [path for path, p in subcommands(build_parser()) if p.get_default("func") is not None]


def _vialguard(
    *argv: str, env: dict[str, str] | None = None, stdout: int | None = subprocess.PIPE, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vialguard", *argv],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=cwd,
    )


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "vialguard")
def test_every_help_renders_with_the_exit_statuses(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--help` of every command in the tree prints its usage and the exit-status table, exit 0."""
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {' '.join(('vialguard', *path))}")
    assert "exit status:" in out
    assert all(f"  {s.code:<4} {s.meaning}" in out for s in exits.STATUSES)


def test_the_tree_has_every_command() -> None:
    """The walk reaches every command (so the parametrised help test covers them all)."""
    assert len(LEAVES) == 27
    assert ("db", "check") in LEAVES
    assert ("predict",) in LEAVES


def test_version_is_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` prints the version pyproject.toml declares, read from the installed metadata."""
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"vialguard {metadata.version('vialguard')}\n"


# The shared options each command offers: only those it uses (a database command has no --port).
SHARED = ("--config", "--db", "--simulate", "--speed", "--scenario", "--host", "--port", "--json")
SITE = {"--config", "--db", "--simulate"}
OFFERS: dict[tuple[str, ...], set[str]] = {
    ("run",): SITE | {"--speed", "--scenario", "--host", "--port"},
    ("bridge",): SITE | {"--speed", "--scenario"},
    ("api",): SITE | {"--speed", "--host", "--port"},
    ("webhooks",): SITE | {"--speed"},
    ("firmware-sim",): {"--config", "--scenario", "--port"},  # its --port is the serial URL
    ("sensors", "scan"): {"--config", "--simulate", "--json"},
    ("sensors", "read"): {"--config", "--simulate", "--scenario", "--json"},
    ("vials", "list"): SITE | {"--json"},
    ("vials", "event"): SITE | {"--json"},
    ("vials", "hand-over"): SITE | {"--json"},
    ("vials", "receive"): SITE | {"--json"},
    ("predict",): {"--json"},
    ("validate",): {"--json"},
    ("db", "check"): {"--config", "--db", "--json"},
    ("db", "backup"): {"--config", "--db", "--json"},
    ("db", "downsample"): {"--config", "--db", "--json"},
    ("token", "create"): SITE | {"--json"},
    ("token", "list"): SITE | {"--json"},
    ("token", "revoke"): SITE | {"--json"},
    ("audit", "verify"): SITE | {"--json"},
    ("audit", "list"): SITE | {"--json"},
    ("uplink",): SITE | {"--speed"},  # --speed: the simulated clock `vialguard run` hands its children
    ("central",): {"--host", "--port"},  # its data are in PostgreSQL: no --config, --db
    ("fleet-demo",): {"--speed", "--port"},  # its own sites' settings: no --config, --db
    ("central-token", "create"): {"--json"},  # central's tokens are in PostgreSQL: no --config, --db
    ("central-token", "list"): {"--json"},
    ("central-token", "revoke"): {"--json"},
}
# Commands that run until stopped print no result, so have no --json.
PROCESSES = {
    ("run",),
    ("bridge",),
    ("api",),
    ("webhooks",),
    ("firmware-sim",),
    ("uplink",),
    ("central",),
    ("fleet-demo",),
}


def test_every_command_is_in_the_table() -> None:
    """Each command of the tree has its row above, so a new one must say what it offers."""
    assert set(LEAVES) == set(OFFERS)


@pytest.mark.parametrize("path", sorted(OFFERS), ids=" ".join)
def test_each_command_offers_only_the_options_it_uses(path: tuple[str, ...]) -> None:
    """A command's help lists exactly the shared options it reads; every result-printing one has --json."""
    parser = dict(subcommands(build_parser()))[path]
    offered = {s for a in parser._actions for s in a.option_strings if s in SHARED}
    assert offered == OFFERS[path]
    assert ("--json" in offered) == (path not in PROCESSES)


@pytest.fixture
def site(settings: Settings) -> list[str]:
    return ["--simulate", "--db", str(settings.db_path)]


def test_json_results_of_checks(site: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`audit verify`, `db check`, `sensors scan` and `token create` print parseable JSON with --json."""
    assert main(["token", "create", *site, "--scope", "read", "--name", "n1", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["token"].startswith(f"vg_{created['token_id']}_")
    assert main(["audit", "verify", *site, "--json"]) == 0
    verified = json.loads(capsys.readouterr().out)
    assert verified["intact"] is True
    assert verified["rows"] == 1
    assert main(["db", "check", "--db", site[2], "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["ok"] is True
    assert checked["integrity"] == ["ok"]
    assert main(["sensors", "scan", "--simulate", "--json"]) == 0
    scanned = json.loads(capsys.readouterr().out)
    assert {"address": "0x29", "names": "tsl2591"} in scanned["i2c"][0]["devices"]
    assert main(["audit", "list", *site, "--json"]) == 0
    assert [r["action"] for r in json.loads(capsys.readouterr().out)] == ["token.created"]


def test_a_failed_check_in_json_exits_1(site: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`audit verify --json` on a chain missing a noted head: intact false, the problem named, exit 1."""
    assert main(["token", "create", *site, "--scope", "read", "--name", "n1"]) == 0
    capsys.readouterr()
    assert main(["audit", "verify", *site, "--json", "--expect-head", "0" * 64]) == exits.CHECK_FAILED
    verified = json.loads(capsys.readouterr().out)
    assert verified["intact"] is False
    assert "no longer in the chain" in verified["problems"][0]


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["vials", "list", "--port", "80"], exits.USAGE, "unrecognized arguments: --port"),
        (["vials", "list"], exits.USAGE, "no --config given"),
        (["vials", "list", "--config", "/nonexistent/site.toml"], exits.USAGE, "cannot read configuration"),
        (["vials", "event", "nope", "moved", "--simulate"], exits.USAGE, "no vial with key 'nope'"),
        (["db", "check", "--db", "/nonexistent/v.db"], exits.USAGE, "no database at /nonexistent/v.db"),
        (["predict", "--lux", "1"], exits.USAGE, "--form, or both"),
        (["--log-level", "loud", "vials", "list"], exits.USAGE, "invalid choice: 'loud'"),
        (["vials", "list", "--simulate", "--db", "junk.db"], exits.RUNTIME, "cannot open database"),
    ],
    ids=[
        "option-it-does-not-take",
        "no-settings",
        "missing-settings-file",
        "unknown-vial",
        "missing-database",
        "predict-incomplete",
        "bad-log-level",
        "database-cannot-open",
    ],
)
def test_errors_are_one_line_with_a_distinct_status(
    argv: list[str], status: int, message: str, tmp_path: Path
) -> None:
    """Usage errors exit 2, runtime errors 3; stderr is one line naming the problem, no traceback."""
    (tmp_path / "junk.db").write_text("not a database\n", encoding="utf-8")  # a file SQLite cannot read
    done = _vialguard(*argv, env={**os.environ, "HOME": str(tmp_path)}, cwd=tmp_path)
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert message in line
    assert line.startswith("vialguard")


def _closed_stdout(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run with a standard output whose reader is already gone, as `vialguard ... | head -0` would."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return _vialguard(*argv, stdout=write_end, cwd=cwd)
    finally:
        os.close(write_end)


PREDICT = ["predict", "--concentration-mg-ml", "0.002", "--path-cm", "1"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        [*PREDICT, "--lux", "500", "--hours", "2"],
        [*PREDICT, "--lux", "5", "--hours", "2", "--json"],
        ["vials", "list", "--simulate", "--db", "v.db"],
        ["sensors", "read", "--simulate"],
    ],
    ids=["help", "version", "predict", "predict-json", "vials-list", "sensors-read"],
)
def test_a_closed_pipe_ends_quietly(argv: list[str], tmp_path: Path) -> None:
    """Output into a closed pipe ends with nothing on stderr (no BrokenPipeError); a command's status is
    141, as a shell reports for a writer a closed pipe stopped (argparse's own help ends 0)."""
    Database(tmp_path / "v.db").initialise()  # `vials list` only reads: the database must exist
    done = _closed_stdout(argv, tmp_path)
    assert done.stderr == ""
    assert done.returncode == (exits.OK if argv[0].startswith("--") else exits.CLOSED_PIPE)


def test_the_banner_token_command_works_as_printed(tmp_path: Path) -> None:
    """The banner's `token create` line runs as printed in the same directory, vialguard not on PATH."""
    args = Namespace(config=None, db=tmp_path / "v.db", simulate=True, speed=60.0, host=None, port=None)
    line = next(x for x in banner(args, settings_from(args)).splitlines() if "token create" in x)
    command = line.split("a token:", 1)[1].split("   (", 1)[0].strip().replace("NAME", "nurse-station")
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p and p != venv_bin)
    done = subprocess.run(
        ["/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PATH": path or "/usr/bin:/bin"},
        cwd=Path.cwd(),
    )
    assert done.returncode == 0, f"{command}: {done.stderr}"
    assert done.stdout.startswith("vg_")
    assert shlex.split(command)[1:3] == ["token", "create"]


def test_environment_names_the_settings_and_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """$VIALGUARD_CONFIG and $VIALGUARD_DB stand for --config and --db; the options still win."""
    config = tmp_path / "site.toml"
    config.write_text(
        (REPO / "vialguard" / "data" / "simulated.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    db = tmp_path / "env.db"
    monkeypatch.setenv(CONFIG_ENV, str(config))
    monkeypatch.setenv(DB_ENV, str(db))
    assert main(["token", "create", "--scope", "read", "--name", "by-env"]) == 0
    assert db.is_file()
    capsys.readouterr()
    assert main(["db", "check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["database"] == str(db)
    other = tmp_path / "other.db"
    assert main(["token", "create", "--db", str(other), "--scope", "read", "--name", "by-option"]) == 0
    assert other.is_file()
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "missing.toml"))
    assert main(["vials", "list"]) == exits.USAGE
    assert "missing.toml" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "debug"),
    [
        (["vials", "list", "--simulate", "--db", "v.db"], False),
        (["--log-level", "debug", "vials", "list", "--simulate", "--db", "v.db"], True),
        (["vials", "list", "--simulate", "--db", "v.db", "--log-level", "DEBUG"], True),
        (
            ["--log-level", "debug", "vials", "list", "--simulate", "--db", "v.db", "--log-level", "info"],
            False,
        ),
    ],
    ids=["default-info", "before-the-command", "after-the-command", "the-command's-wins"],
)
def test_log_level_before_or_after_the_command(argv: list[str], debug: bool, tmp_path: Path) -> None:
    """--log-level is accepted on either side of the command's name; debug lines appear only when asked."""
    Database(tmp_path / "v.db").initialise()  # `vials list` only reads: the database must exist
    done = _vialguard(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (" DEBUG vialguard.cli: " in done.stderr) == debug, done.stderr


def test_run_hands_its_log_level_and_only_their_options_to_its_children(tmp_path: Path) -> None:
    """`vialguard run` starts each child with the log level and only the options that child takes."""
    from vialguard.commands.processes import _passthrough

    args = build_parser().parse_args(
        [
            "run",
            "--simulate",
            "--db",
            "v.db",
            "--port",
            "8123",
            "--scenario",
            "door-left-open@1h",
            "--log-level",
            "warning",
        ]
    )
    bridge = _passthrough(args, "bridge", 1.0, 2.0)
    api = _passthrough(args, "api", 1.0, 2.0)
    assert bridge[:2] == api[:2] == ["--log-level", "warning"]
    assert "--scenario" in bridge
    assert "--port" not in bridge
    assert "--port" in api
    assert "--scenario" not in api
    assert build_parser().parse_args(["bridge", *bridge]).scenario == ["door-left-open@1h"]
    assert build_parser().parse_args(["api", *api]).port == 8123


def test_the_readme_lists_the_exit_statuses() -> None:
    """README's exit-status table has one row per status of vialguard/exits.py, in the same order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Exit statuses", 1)[1].split("\n#", 1)[0]
    rows = [
        int(line.split("|")[1])
        for line in section.splitlines()
        if line.startswith("| ") and "status" not in line
    ]
    assert rows == [s.code for s in exits.STATUSES]
