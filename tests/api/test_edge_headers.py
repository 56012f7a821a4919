"""The HTTP edge: Host names allow-listed against DNS rebinding, security headers, the bind warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from api.edge import bind_warning
from api.startup import sqlite_app
from hardware.clock import ManualClock
from monitor.config import Settings, parse_settings
from tests.api.conftest import Served, serve
from tests.conftest import simulated_raw


@pytest.mark.parametrize(
    "host",
    ["attacker.example", "attacker.example:8000", "127.0.0.1.attacker.example", "localhost.attacker.example"],
)
@pytest.mark.parametrize("path", ["/api/v1/vials", "/", "/healthz", "/openapi.json"])
def test_a_foreign_host_name_is_refused_before_any_handler(
    shared_served: Served, host: str, path: str
) -> None:
    """A name a rebinding page would send in Host: 400 as JSON naming the setting; nothing is served."""
    r = shared_served.client.get(path, headers={"Host": host})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "unknown host"
    assert "allowed_hosts" in r.json()["message"]
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.1:8000", "localhost", "LOCALHOST:8000", "localhost.", "[::1]:8000", "192.0.2.7"],
)
def test_addresses_and_loopback_names_are_answered(shared_served: Served, host: str) -> None:
    """IP addresses (a page cannot make a browser send one but from that origin) and loopback names pass."""
    assert shared_served.client.get("/api/v1/vials", headers={"Host": host}).status_code == 200


def test_configured_names_are_answered(tmp_path: Path) -> None:
    """A name listed in [api] allowed_hosts is answered, in any case and with any port."""
    raw = simulated_raw()
    raw.setdefault("api", {})["allowed_hosts"] = ["pharmacy-pi.local"]
    settings = parse_settings(raw, "simulated.toml", {"db_path": tmp_path / "v.db"})
    with serve(settings, ManualClock()) as s:
        assert s.client.get("/api/v1/vials", headers={"Host": "Pharmacy-Pi.local:8000"}).status_code == 200
        assert s.client.get("/api/v1/vials", headers={"Host": "other.local"}).status_code == 400


@pytest.mark.parametrize("path", ["/", "/assets/dashboard.js", "/api/v1/vials", "/api/v1/nowhere", "/docs"])
def test_every_response_carries_the_security_headers(shared_served: Served, path: str) -> None:
    """nosniff, a CSP with frame-ancestors 'none', and X-Frame-Options on pages, JSON and errors alike."""
    r = shared_served.client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    policy = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert r.headers["x-frame-options"] == "DENY"
    if path != "/docs":
        assert "script-src 'self';" in policy  # the dashboard runs only its own script file


@pytest.mark.parametrize(
    ("host", "behind_tls_proxy", "warned"),
    [
        ("127.0.0.1", False, False),
        ("::1", False, False),
        ("localhost", False, False),
        ("0.0.0.0", False, True),
        ("192.0.2.7", False, True),
        ("pharmacy-pi.local", False, True),
        ("0.0.0.0", True, False),
    ],
)
def test_binding_beyond_loopback_without_tls_warns(
    settings: Settings, caplog: pytest.LogCaptureFixture, host: str, behind_tls_proxy: bool, warned: bool
) -> None:
    """Beyond loopback without [api] behind_tls_proxy: one warning naming the address and the remedy."""
    api = settings.api.model_copy(update={"host": host, "behind_tls_proxy": behind_tls_proxy})
    with caplog.at_level(logging.WARNING, logger="api.app"):
        sqlite_app(settings.model_copy(update={"api": api}))
    warnings = [r.getMessage() for r in caplog.records if r.name == "api.app"]
    assert (bind_warning(api) is not None) == warned
    assert len(warnings) == (1 if warned else 0)
    if warned:
        assert host in warnings[0]
        assert "behind_tls_proxy" in warnings[0]


def test_this_machines_own_name_is_answered(shared_served: Served) -> None:
    """The machine's host name and its mDNS name (what Prometheus scrapes on a LAN) pass unconfigured."""
    import socket

    name = socket.gethostname().lower()
    for host in (name, f"{name}.local:8000"):
        assert shared_served.client.get("/api/v1/vials", headers={"Host": host}).status_code == 200
