"""The API process raises and clears system alerts: here, the bridge going quiet and coming back."""

from __future__ import annotations

import time

from api import system_watch
from hardware.clock import ManualClock
from monitor.config import Settings
from monitor.store import health
from monitor.store.database import transaction
from tests.api.conftest import Served, serve


def _beat(served: Served, age_seconds: float) -> None:
    conn = served.database.connect()
    with transaction(conn):
        health.write(
            conn, health.Heartbeat(pid=1, real_ts=time.time() - age_seconds, sim_ts=0.0, readings_total=0)
        )
    conn.close()


def test_bridge_down_is_a_system_alert_pollers_see(served: Served) -> None:
    """A stale heartbeat opens a critical bridge-down alert of class system; a fresh one resolves it."""
    state = served.app.state.vialguard
    assert system_watch.check_once(state) == 0  # no heartbeat yet: unknown, not down
    _beat(served, 300.0)
    assert system_watch.check_once(state) == 1
    page = served.client.get("/api/v1/alerts", params={"since": 0, "alert_class": "system"}).json()
    (alert,) = page["alerts"]
    assert (alert["rule"], alert["severity"], alert["state"]) == ("bridge-down", "critical", "firing")
    assert "the bridge has written nothing for 300 s" in alert["message"]
    _beat(served, 1.0)
    assert system_watch.check_once(state) == 1
    after = served.client.get("/api/v1/alerts", params={"since": page["cursor"]}).json()
    assert [(a["id"], a["state"]) for a in after["alerts"]] == [(alert["id"], "resolved")]


def test_the_api_runs_the_checks_by_itself(settings: Settings, clock: ManualClock) -> None:
    """With a short interval, the API's own task raises the alert without being asked."""
    alerts = settings.alerts.model_copy(update={"system_check_seconds": 0.05})
    with serve(settings.model_copy(update={"alerts": alerts}), clock) as served:
        _beat(served, 300.0)
        for _ in range(200):  # the task runs on uvicorn's loop in real time: wait for it, at most 2 s
            page = served.client.get("/api/v1/alerts", params={"since": 0, "rule": "bridge-down"}).json()
            if page["alerts"]:
                break
            time.sleep(0.01)
        assert [a["rule"] for a in page["alerts"]] == ["bridge-down"]
