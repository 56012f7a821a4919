"""A Hypothesis state machine over the whole alert path: the engine, acknowledgements, a cursor poller and
webhooks to a real receiver on 127.0.0.1, under random light, time, acknowledgements and deliveries.

Whatever the order: the poller and the receiver each see every change once and in order, every alert's
events follow the lifecycle, and the audit trail stays intact.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading
from monitor.config import WebhookConfig, parse_settings
from monitor.engine import Engine
from monitor.model.profiles import load_catalog
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store import alerts as alert_store
from monitor.store import audit as audit_store
from monitor.store.database import transaction
from tests.conftest import simulated_raw
from tests.system_process import free_port
from tests.vialguard.test_webhooks import Receiver, receiving
from vialguard.webhooks import Deliverer

# What may follow each event of one alert (None: its first event).
FOLLOWS: dict[str | None, set[str]] = {
    None: {"pending", "fired"},
    "pending": {"fired", "withdrawn", "updated", "silenced", "unsilenced"},
    "fired": {"updated", "acknowledged", "escalated", "resolved", "silenced", "unsilenced"},
    "updated": {
        "fired",
        "updated",
        "acknowledged",
        "escalated",
        "resolved",
        "withdrawn",
        "silenced",
        "unsilenced",
    },
    "acknowledged": {"updated", "escalated", "resolved", "silenced", "unsilenced"},
    "escalated": {"updated", "acknowledged", "resolved", "silenced", "unsilenced"},
    "silenced": {"fired", "updated", "acknowledged", "escalated", "resolved", "withdrawn", "unsilenced"},
    "unsilenced": {"fired", "updated", "acknowledged", "escalated", "resolved", "withdrawn", "silenced"},
    "withdrawn": set(),
    "resolved": set(),
}


class AlertChanges(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.port = free_port()
        hook = WebhookConfig(url=f"http://127.0.0.1:{self.port}/hook")
        settings_ = parse_settings(
            simulated_raw(),
            "simulated.toml",
            {"db_path": Path(self.tmp.name) / "v.db", "webhooks": [hook.model_dump()]},
        )
        self.clock = ManualClock()
        database = Database(settings_.db_path)
        database.initialise()
        self.conn = database.connect()
        sync_site(self.conn, settings_, self.clock.wall())
        self.engine = Engine(self.conn, load_catalog(), default_rules(settings_.rules.thresholds()))
        self.deliverer = Deliverer(database, settings_.webhooks, self.clock, site_name="machine")
        self.receiver = Receiver()
        self.serving = receiving(self.port, self.receiver)
        self.serving.__enter__()
        self.cursor = 0
        self.polled: list[int] = []  # the seq of every change the poller saw
        self.acks = 0

    def teardown(self) -> None:
        self.serving.__exit__(None, None, None)
        self.deliverer.close()
        self.conn.close()
        self.tmp.cleanup()

    @rule(lux=st.sampled_from([0.0, 3.0, 50.0, 900.0]), seconds=st.integers(1, 240))
    def light(self, lux: float, seconds: int) -> None:
        """The fridge light at ``lux`` for ``seconds``, one reading a second, through the real engine."""
        t0 = self.clock.wall()
        readings = [LightReading("fridge-1-lux", t0 + i, lux) for i in range(seconds)]
        self.clock.advance(seconds)
        self.engine.ingest(Batch(light=readings), self.clock.wall())

    @rule(data=st.data())
    def acknowledge(self, data: st.DataObject) -> None:
        firing = [a for a in alert_store.open_alerts(self.conn).values() if a.state == "firing"]
        if not firing:
            return
        alert = data.draw(st.sampled_from(sorted(firing, key=lambda a: a.id)))
        now = self.clock.wall()
        with transaction(self.conn):
            alert_store.acknowledge(self.conn, alert.id, "K. Sato", "checked", now)
            audit_store.append(self.conn, now, "token:test", "alert.acknowledged", f"alert:{alert.id}", {})
        self.acks += 1

    @rule()
    def poll(self) -> None:
        while True:
            page = alert_store.changed_since(self.conn, self.cursor, limit=7)
            self.polled += [a.seq for a in page]
            if len(page) < 7:
                self.cursor = max(self.cursor, alert_store.latest_seq(self.conn))
                return
            self.cursor = page[-1].seq

    @rule()
    def deliver(self) -> None:
        self.deliverer.run_once()

    @rule(up=st.booleans())
    def receiver_up_or_down(self, up: bool) -> None:
        """The receiver goes away or comes back; changes wait in the outbox meanwhile."""
        if up:
            self.serving = receiving(self.port, self.receiver)
            self.serving.__enter__()
        else:
            self.serving.__exit__(None, None, None)
            self.serving = _Nothing()
        self.clock.advance(300.0)  # past any backoff

    @invariant()
    def polled_changes_are_new_and_in_order(self) -> None:
        assert self.polled == sorted(set(self.polled))

    @invariant()
    def the_receiver_got_each_change_once_in_order(self) -> None:
        seqs = [json.loads(body)["seq"] for _, body in self.receiver.received]
        assert seqs == sorted(set(seqs))
        every = [s for (s,) in self.conn.execute("SELECT seq FROM alert_events ORDER BY seq")]
        assert seqs == every[: len(seqs)]  # a prefix: nothing skipped

    @invariant()
    def events_follow_the_lifecycle(self) -> None:
        last: dict[int, str | None] = {}
        for alert_id, kind in self.conn.execute("SELECT alert_id, kind FROM alert_events ORDER BY seq"):
            before = last.get(alert_id)
            assert kind in FOLLOWS[before], (alert_id, before, kind)
            last[alert_id] = kind

    @invariant()
    def audit_trail_intact(self) -> None:
        check = audit_store.check(self.conn)
        assert check.intact
        assert check.rows == self.acks

    @rule()
    def everything_arrives_once_the_receiver_is_up(self) -> None:
        """With the receiver up, a delivery pass leaves nothing behind and the poller catches up."""
        if isinstance(self.serving, _Nothing):
            self.receiver_up_or_down(up=True)
        self.clock.advance(300.0)
        while self.deliverer.run_once():
            pass
        every = [s for (s,) in self.conn.execute("SELECT seq FROM alert_events ORDER BY seq")]
        assert [json.loads(body)["seq"] for _, body in self.receiver.received] == every
        self.poll()
        latest = {a.id: a.seq for a in alert_store.changed_since(self.conn, 0, limit=10_000)}
        assert set(latest.values()) <= set(self.polled)


class _Nothing:
    def __exit__(self, *exc: object) -> None:
        pass


AlertChanges.TestCase.settings = settings(
    max_examples=8, stateful_step_count=14, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestAlertChanges = AlertChanges.TestCase
TestAlertChanges.__doc__ = (
    "Random light, acknowledgements, polls and deliveries keep every change once, in order."
)
