"""The API's system alert, bridge down: opened once, resolved when it passes; unknown is no finding."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from monitor.config import Settings
from monitor.site_sync import sync_site
from monitor.store import Database, system_alerts
from monitor.store import alerts as alert_store
from monitor.store.database import transaction
from monitor.system_checks import SystemLimits, SystemStatus, evaluate, next_pass_seconds

LIMITS = SystemLimits(bridge_down_seconds=60.0)


@pytest.mark.parametrize(
    ("age", "breached"),
    [(5.0, set()), (60.0, set()), (61.0, {"bridge-down"})],
    ids=["fresh", "at-the-limit", "bridge-down"],
)
def test_bridge_down_reads_the_heartbeat_age(age: float, breached: set[str]) -> None:
    """The bridge is down once its heartbeat is older than the limit, not at it."""
    assert {f.check.name for f in evaluate(SystemStatus(age), LIMITS) if f.breached} == breached


def test_unknown_figures_are_no_finding() -> None:
    """No heartbeat yet: nothing is claimed either way."""
    assert evaluate(SystemStatus(None), LIMITS) == []


@pytest.mark.parametrize(
    ("age", "wait"),
    [(None, 15.0), (5.0, 55.0), (50.0, 15.0), (60.0, 15.0), (61.0, 15.0)],
    ids=["unknown", "fresh-waits-until-it-could-go-stale", "near-the-limit", "at-the-limit", "down"],
)
def test_the_next_pass_comes_no_later_than_a_breach(age: float | None, wait: float) -> None:
    """A fresh heartbeat is looked at again when it could be stale, never sooner than the interval; an
    unknown or breached one every interval (a breach is seen as early as with a pass every interval)."""
    assert next_pass_seconds(evaluate(SystemStatus(age), LIMITS), LIMITS, 15.0) == wait


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
    assert _reconcile(conn, SystemStatus(120.0), 100.0) == 1
    assert _reconcile(conn, SystemStatus(135.0), 115.0) == 0
    (alert,) = alert_store.open_alerts(conn).values()
    assert (alert.rule, alert.alert_class, alert.severity, alert.state) == (
        "bridge-down",
        "system",
        "critical",
        "firing",
    )
    assert '"bridge_down_seconds": 60.0' in alert.snapshot
    assert _reconcile(conn, SystemStatus(2.0), 130.0) == 1
    assert alert_store.open_alerts(conn) == {}
    assert [e.kind for e in alert_store.events(conn, alert.id)] == ["fired", "resolved"]
    assert _reconcile(conn, SystemStatus(90.0), 200.0) == 1  # down again: a new episode
    (again,) = alert_store.open_alerts(conn).values()
    assert again.id != alert.id
    assert again.fingerprint == alert.fingerprint
