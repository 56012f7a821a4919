"""System alerts: bridge down, storage nearly full, clock unsynced; opened once, resolved when they pass."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from monitor.config import Settings
from monitor.site_sync import sync_site
from monitor.store import Database, system_alerts
from monitor.store import alerts as alert_store
from monitor.store.database import transaction
from monitor.system_checks import SystemLimits, SystemStatus, evaluate

LIMITS = SystemLimits(bridge_down_seconds=60.0, storage_free_percent_min=10.0)


@pytest.mark.parametrize(
    ("status", "breached"),
    [
        (SystemStatus(5.0, 50.0, True), set()),
        (SystemStatus(61.0, 50.0, True), {"bridge-down"}),
        (SystemStatus(5.0, 9.9, True), {"storage-nearly-full"}),
        (SystemStatus(5.0, 50.0, False), {"clock-unsynced"}),
        (SystemStatus(600.0, 1.0, False), {"bridge-down", "storage-nearly-full", "clock-unsynced"}),
    ],
    ids=["healthy", "bridge-down", "disk-nearly-full", "clock-unsynced", "all"],
)
def test_each_check_reads_its_own_figure(status: SystemStatus, breached: set[str]) -> None:
    """Each check breaches on its own figure and limit."""
    assert {f.check.name for f in evaluate(status, LIMITS) if f.breached} == breached


def test_unknown_figures_are_no_finding() -> None:
    """No heartbeat yet, unreadable disk or clock: nothing is claimed either way."""
    assert evaluate(SystemStatus(None, None, None), LIMITS) == []


@pytest.fixture
def conn(settings: Settings) -> Iterator[sqlite3.Connection]:
    database = Database(settings.db_path)
    database.initialise()
    c = database.connect()
    sync_site(c, settings, 0.0)
    yield c
    c.close()


def _reconcile(conn: sqlite3.Connection, status: SystemStatus, now: float) -> int:
    with transaction(conn):
        return system_alerts.reconcile(conn, evaluate(status, LIMITS), LIMITS, now)


def test_a_breach_opens_one_system_alert_until_it_passes(conn: sqlite3.Connection) -> None:
    """Bridge down: one critical system alert, not one per pass; resolved when the heartbeat is back."""
    assert _reconcile(conn, SystemStatus(120.0, 50.0, None), 100.0) == 1
    assert _reconcile(conn, SystemStatus(135.0, 50.0, None), 115.0) == 0
    (alert,) = alert_store.open_alerts(conn).values()
    assert (alert.rule, alert.alert_class, alert.severity, alert.state) == (
        "bridge-down",
        "system",
        "critical",
        "firing",
    )
    assert '"bridge_down_seconds": 60.0' in alert.snapshot
    assert _reconcile(conn, SystemStatus(2.0, 50.0, None), 130.0) == 1
    assert alert_store.open_alerts(conn) == {}
    assert [e.kind for e in alert_store.events(conn, alert.id)] == ["fired", "resolved"]
    assert _reconcile(conn, SystemStatus(90.0, 50.0, None), 200.0) == 1  # down again: a new episode
    (again,) = alert_store.open_alerts(conn).values()
    assert again.id != alert.id
    assert again.fingerprint == alert.fingerprint
