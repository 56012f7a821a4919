"""The Prometheus side: the shipped alerting rules under promtool, and a real Prometheus scraping a
running simulated system with a read token, through the shipped scrape config."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.store import Database
from monitor.store import tokens as token_store
from monitor.store.database import transaction
from tests.system_process import free_port, start_system

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "vialguard.rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "vialguard.json"
WAIT_SECONDS = 120.0  # a deadline for something that should happen, never a measured speed


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = (
            f"{name} missing: run scripts/system-deps.sh (make test does), it installs Debian's prometheus"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def test_promtool_checks_the_rules() -> None:
    """`promtool check rules`: the file parses, every expression is valid PromQL, every template renders."""
    done = subprocess.run([tool("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 8 rules found" in done.stdout


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    """`promtool test rules`: each alert fires on the series it should, when it should, and no sooner."""
    done = subprocess.run(
        [tool("promtool"), "test", "rules", "vialguard.rules.test.yml"],
        cwd=PROMETHEUS_DIR,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def scrape_config(tmp_path: Path, api_port: int, token: str) -> Path:
    """The shipped prometheus.yml pointed at this test's API, token and rules, scraping every second."""
    token_file = tmp_path / "vialguard.token"
    token_file.write_text(token + "\n", encoding="utf-8")
    text = (PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8")
    for shipped, here in (
        ("/etc/prometheus/vialguard.token", str(token_file)),
        ('"vialguard-pi.local:8000"', f'"127.0.0.1:{api_port}"'),
        ("- vialguard.rules.yml", f"- {RULES}"),
        ("scrape_interval: 30s", "scrape_interval: 1s"),
        ("evaluation_interval: 30s", "evaluation_interval: 1s"),
        ("scrape_timeout: 20s", "scrape_timeout: 1s"),
    ):
        assert shipped in text, f"the shipped prometheus.yml no longer has {shipped!r}"
        text = text.replace(shipped, here)
    path = tmp_path / "prometheus.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_scrape_config_passes_promtool(tmp_path: Path) -> None:
    """The shipped scrape config, with its token file present, is a valid Prometheus configuration."""
    config = scrape_config(tmp_path, 8000, "vg_example")
    done = subprocess.run([tool("promtool"), "check", "config", str(config)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def site_without_anonymous_reads(tmp_path: Path) -> Path:
    """The shipped simulated site, but reads need a token even on loopback: the scrape must bring one."""
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    path = tmp_path / "site.toml"
    path.write_text(text + "\n[api]\nanonymous_loopback_reads = false\n", encoding="utf-8")
    return path


def read_token(db: Path) -> str:
    database = Database(db)
    database.initialise()
    conn = database.connect()
    try:
        with transaction(conn):
            return token_store.create(conn, "prometheus", "read", time.time())[1]
    finally:
        conn.close()


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """A simulated system and a real Prometheus scraping it: (Prometheus's API, vialguard's API)."""
    prometheus_bin = tool("prometheus")
    db = tmp_path / "v.db"
    token = read_token(db)
    api_port, prom_port = free_port(), free_port()
    system = start_system(db, api_port, "--config", str(site_without_anonymous_reads(tmp_path)))
    server = subprocess.Popen(
        [
            prometheus_bin,
            f"--config.file={scrape_config(tmp_path, api_port, token)}",
            f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            "--log.level=warn",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{prom_port}", timeout=10) as prom,
            httpx.Client(
                base_url=f"http://127.0.0.1:{api_port}",
                timeout=10,
                headers={"Authorization": f"Bearer {token}"},
            ) as api,
        ):
            yield prom, api
    finally:
        for proc in (server, system):
            proc.send_signal(signal.SIGTERM)
        prom_out, _ = server.communicate(timeout=30)
        system_out, _ = system.communicate(timeout=30)
    assert server.returncode == 0, prom_out.decode()
    assert system.returncode == 0, system_out.decode()


def wait_for(prom: httpx.Client, path: str, params: dict[str, str], ready: Any) -> Any:
    """Poll Prometheus's HTTP API until ``ready(data)``; the data."""
    deadline = time.monotonic() + WAIT_SECONDS
    data: Any = None
    while time.monotonic() < deadline:
        try:
            body = prom.get(path, params=params).json()
        except httpx.TransportError:
            body = {}  # still starting
        data = body.get("data")
        if body.get("status") == "success" and ready(data):
            return data
        time.sleep(0.5)  # real processes on real clocks: nothing here to drive, only to wait for
    pytest.fail(f"{path} {params} not ready within {WAIT_SECONDS} s: {data}")


def wait_for_api(api: httpx.Client, path: str) -> Any:
    """The vialguard API's answer at ``path`` once it is up."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            response = api.get(path)
        except httpx.TransportError:
            time.sleep(0.2)  # the API process is still starting
            continue
        response.raise_for_status()
        return response.json()
    pytest.fail(f"the vialguard API did not answer within {WAIT_SECONDS} s")


@pytest.mark.slow
def test_prometheus_scrapes_potency_bands_from_a_running_system(
    prometheus: tuple[httpx.Client, httpx.Client],
) -> None:
    """Prometheus, with the read token of the scrape config, stores each vial's low bound; the rules load
    and evaluate without error against the real series."""
    prom, api = prometheus
    vials = {v["key"]: v for v in wait_for_api(api, "/api/v1/vials")}
    query = {"query": 'vialguard_vial_potency_percent{job="vialguard",bound="low"}'}
    data = wait_for(prom, "/api/v1/query", query, lambda d: len(d["result"]) == len(vials))
    series = {r["metric"]["vial"]: r for r in data["result"]}
    assert set(series) == set(vials)
    for key, r in series.items():
        assert r["metric"]["location"] == vials[key]["location"]
        assert 0.0 < float(r["value"][1]) <= vials[key]["potency_percent"] + 0.05
    up = wait_for(prom, "/api/v1/query", {"query": 'up{job="vialguard"}'}, lambda d: bool(d["result"]))
    assert up["result"][0]["value"][1] == "1"  # the token was accepted: no anonymous reads here

    def evaluated(d: Any) -> bool:
        rules = [r for g in d["groups"] for r in g["rules"]]
        return len(rules) == 8 and all(r["lastEvaluation"] > "2000" for r in rules)

    groups = wait_for(prom, "/api/v1/rules", {}, evaluated)["groups"]
    assert [(r["name"], r["health"], r.get("lastError", "")) for g in groups for r in g["rules"]] == [
        (r["name"], "ok", "") for g in groups for r in g["rules"]
    ]


def dashboard_queries(vial: str) -> list[tuple[str, str]]:
    """Every PromQL query of the Grafana dashboard, its variables filled in: (panel or variable, query).
    A variable's ``label_values(selector, label)`` is Grafana's; its selector is the PromQL part."""
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = [(p["title"], t["expr"]) for p in board["panels"] for t in p.get("targets", ())]
    for var in board["templating"]["list"]:
        if var["type"] == "query":
            match = re.fullmatch(r"label_values\((.+), (\w+)\)", var["query"]["query"])
            assert match is not None, var
            found.append((f"${var['name']}", match.group(1)))
    filled = {"$job": "vialguard", "$location": ".*", "$vial": vial}
    return [(where, re.sub(r"\$\w+", lambda m: filled[m.group(0)], expr)) for where, expr in found]


@pytest.mark.slow
def test_every_dashboard_query_finds_series_of_a_running_system(
    prometheus: tuple[httpx.Client, httpx.Client],
) -> None:
    """Each panel of the Grafana dashboard (lux, temperature, dose, each vial's band, hours left, sensors)
    and each of its variables queries series that a real scrape of the simulated system holds."""
    prom, api = prometheus
    vials = wait_for_api(api, "/api/v1/vials")
    queries = dashboard_queries(vials[0]["key"])
    assert len(queries) >= 12
    for where, query in queries:
        data = wait_for(prom, "/api/v1/query", {"query": query}, lambda d: bool(d["result"]))
        assert data["resultType"] == "vector", where
