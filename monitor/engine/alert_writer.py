"""The alert writer: each rule's observations through the lifecycle, and its transitions into the store.

Per rule and subject the persisted timer and the open alert are read, the pure lifecycle
(:mod:`monitor.alerts.lifecycle`) decides the transitions, and this module writes them: an alert opened
(pending or firing, with the snapshot of the rule and model constants in force), promoted, updated,
withdrawn or resolved; firing alerts unacknowledged too long escalate one severity step.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import replace

from monitor.alerts.lifecycle import RuleState, Transition, escalated_severity, evaluate
from monitor.alerts.rule import Rule
from monitor.engine.observations import Scene, location_quantity, observe
from monitor.model.profiles import Catalog
from monitor.store import alerts
from monitor.store import vials as vial_store


class AlertWriter:
    """Runs the rules over a batch's scene; inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, catalog: Catalog, rules: tuple[Rule, ...]) -> None:
        self._conn = conn
        self._catalog = catalog
        self._rules = rules
        self._by_name = {r.name: r for r in rules}

    def evaluate(self, scene: Scene, *, vials_due: bool) -> int:
        """Evaluate every rule (the vial rules only when ``vials_due``); returns the alert changes."""
        open_by_fp = alerts.open_alerts(self._conn)
        timers = alerts.rule_timers(self._conn)
        changes = 0
        for rule in self._rules:
            if rule.subject == "vial" and not vials_due:
                continue
            for (name, subject_id), series in observe(rule, scene).items():
                fp = f"{rule.name}:{rule.subject}:{subject_id}"
                current = open_by_fp.get(fp)
                breached = current is not None and current.state != "pending"
                worst = None
                if current is not None and breached:
                    worst = current.worst_value if current.worst_value is not None else current.value
                state = RuleState.from_timer_json(
                    timers.get(fp), open_worst=worst, pending=current is not None and not breached
                )
                transitions, new_state = evaluate(
                    rule, series, state, max_step_seconds=_max_step_seconds(rule, subject_id, scene)
                )
                for tr in transitions:
                    self._apply(rule, fp, name, subject_id, tr, open_by_fp, scene)
                    changes += 1
                timer = persisted_timer(rule, new_state)
                if timer != timers.get(fp):
                    alerts.set_rule_timer(self._conn, fp, timer)
        return changes + self._escalate(open_by_fp, scene.now)

    def _escalate(self, open_by_fp: dict[str, alerts.AlertRecord], now: float) -> int:
        """Firing alerts left unacknowledged past their rule's time go one severity step up."""
        changes = 0
        for alert in open_by_fp.values():
            rule = self._by_name.get(alert.rule)
            if rule is None:
                continue
            after = rule.escalate_after_seconds
            step = escalated_severity(
                alert.severity, alert.state, alert.fired_ts, alert.escalated_ts, now, after
            )
            if step is not None:
                minutes = rule.escalate_after_seconds / 60.0
                alerts.escalate(
                    self._conn,
                    alert.id,
                    now,
                    step,
                    f"unacknowledged for {minutes:g} min: {alert.severity} escalated to {step}",
                )
                changes += 1
        return changes

    def _snapshot(self, rule: Rule, subject_id: int) -> str:
        """The rule's parameters and, for a vial, the model constants in force, as JSON."""
        snap: dict[str, object] = {"rule": rule.parameters()}
        if rule.subject == "vial":
            vial = vial_store.get(self._conn, subject_id)
            drug = self._catalog.drug(vial.drug)
            snap["model"] = {
                "drug": vial.drug,
                "form": vial.form,
                "drug_constants": drug.model_dump(mode="json", exclude={"forms"}),
                "form_constants": self._catalog.form(vial.drug, vial.form).model_dump(mode="json"),
            }
        return json.dumps(snap, separators=(",", ":"), sort_keys=True)

    def _apply(
        self,
        rule: Rule,
        fp: str,
        name: str,
        subject_id: int,
        tr: Transition,
        open_by_fp: dict[str, alerts.AlertRecord],
        scene: Scene,
    ) -> None:
        current = open_by_fp.get(fp)
        message = rule.message(name, tr.value)
        if tr.kind in ("pending", "fire") and current is None:
            ids = {
                "location": (subject_id, None, None),
                "vial": (None, subject_id, None),
                "sensor": (None, None, subject_id),
            }[rule.subject]
            location_id, vial_id, sensor_id = ids
            if sensor_id is not None:
                location_id = next(s.location_id for s in scene.sensors.values() if s.id == sensor_id)
            alert_id = alerts.open_alert(
                self._conn,
                alerts.NewAlert(
                    fingerprint=fp,
                    rule=rule.name,
                    severity=rule.severity,
                    location_id=location_id,
                    vial_id=vial_id,
                    sensor_id=sensor_id,
                    started_ts=tr.started_ts,
                    fired_ts=tr.ts if tr.kind == "fire" else None,
                    value=tr.value,
                    message=message,
                    alert_class=rule.alert_class,
                    snapshot=self._snapshot(rule, subject_id),
                ),
            )
            open_by_fp[fp] = alerts.get(self._conn, alert_id)
        elif current is None:
            return
        elif tr.kind == "fire":
            alerts.promote(self._conn, current.id, tr.ts, tr.value, message, self._snapshot(rule, subject_id))
            open_by_fp[fp] = alerts.get(self._conn, current.id)
        elif tr.kind == "update":
            alerts.update(self._conn, current.id, tr.ts, tr.value, message)
        elif tr.kind == "withdraw":
            alerts.withdraw(self._conn, current.id, tr.ts, "back in range before the time rule was met")
            del open_by_fp[fp]
        elif tr.kind == "resolve":
            detail = f"condition cleared for {rule.clear_seconds / 60.0:g} min"
            alerts.resolve(self._conn, current.id, tr.ts, detail, ended_ts=tr.started_ts)
            del open_by_fp[fp]


def _max_step_seconds(rule: Rule, subject_id: int, scene: Scene) -> float:
    """How long one reading counts for in a cumulative timer: up to its sensor's gap threshold."""
    if rule.timer != "cumulative" or rule.subject != "location":
        return math.inf
    sensor = scene.site.sensor(subject_id, location_quantity(rule.metric))
    return math.inf if sensor is None else sensor.max_gap_seconds


def persisted_timer(rule: Rule, state: RuleState) -> str | None:
    """The timer to keep between batches, or None when there is nothing to remember.

    A single-event timer needs no reading history, so it is written only when its excursion or clear
    delay changes, not on every batch.
    """
    if rule.timer == "single":
        if state.since is None and state.clear_since is None:
            return None  # the common case, every batch, for every quiet rule: no copy made
        state = replace(state, last_ts=None, last_out=False, out_spans=())
    if state.since is None and state.clear_since is None and not state.out_spans and not state.last_out:
        return None
    return state.timer_json()
