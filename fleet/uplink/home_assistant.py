"""Home Assistant's MQTT discovery from a site's uplink: a live view beside central's record.

Device-based discovery (Home Assistant 2024.11 on; ``source/_integrations/mqtt.markdown`` in
home-assistant/home-assistant.io): one retained QoS 1 message on ``<prefix>/device/vialguard-<site>/config``
describes the site as a device (``dev``, ``o`` for origin) and its entities in ``cmps``, each with its
platform ``p`` and a ``unique_id``. Entities: per location the latest lux, temperature and light dose
(the location's lux-hour ledger); per vial its potency's best and low and the hours left of its one
verdict (:mod:`monitor.assessment`); per alert that has fired since the uplink started, a ``problem``
binary sensor, on while the alert is active. Every entity reads one shared retained state message
(``vialguard/fleet/<site>/ha/state``, JSON) with its own ``value_template``, expires after
``expire_after`` seconds without one (a silent Pi shows unavailable), and is available while the
uplink's status topic says ``online``, which the broker turns to ``offline`` as its last will.

Loading (:func:`read_view`) is apart from building the messages (:func:`discovery`, :func:`state`), which
are pure.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from fleet.protocol import OFFLINE, ONLINE, TOPIC_ROOT, status_topic
from monitor.alerts.vocabulary import AlertState
from monitor.assessment import assess_all
from monitor.errors import VialguardError
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.store import vials as vial_store
from monitor.store.database import snapshot
from monitor.version import version

log = logging.getLogger(__name__)

ACTIVE_STATES: tuple[AlertState, ...] = ("firing", "acknowledged")
ORIGIN_URL = "https://github.com/vialguard/vialguard"


@dataclass(frozen=True, slots=True)
class LocationView:
    key: str
    name: str
    lux: float | None
    celsius: float | None
    lux_hours: float | None  # the location's ledger of light dose, as of its latest light reading


@dataclass(frozen=True, slots=True)
class VialView:
    key: str
    drug: str
    potency_best_percent: float
    potency_low_percent: float
    hours_left: float | None  # the verdict's; None: not at present conditions, or not in stock


@dataclass(frozen=True, slots=True)
class AlertView:
    id: int
    rule: str
    message: str
    active: bool


@dataclass(frozen=True, slots=True)
class SiteView:
    site: str
    locations: tuple[LocationView, ...]
    vials: tuple[VialView, ...]
    alerts: tuple[AlertView, ...]  # active now, or active at some time since the uplink started


def _latest(conn: sqlite3.Connection, quantity: str, columns: str, location_id: int) -> Any:
    return conn.execute(
        f"SELECT {columns} FROM {quantity}_readings AS r JOIN sensors AS s ON s.id = r.sensor_id"
        " WHERE s.location_id = ? ORDER BY r.ts DESC LIMIT 1",
        (location_id,),
    ).fetchone()


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def read_view(
    conn: sqlite3.Connection,
    site: str,
    catalog: Catalog,
    thresholds: Thresholds,
    now: float,
    alerts_seen: frozenset[int],
) -> SiteView:
    """The site as Home Assistant shows it, from one read transaction; ``alerts_seen`` keeps the ids of
    alerts already given an entity, so an alert that ended reports off rather than vanishing."""
    locations = []
    for location_id, key, name in conn.execute("SELECT id, key, name FROM locations ORDER BY key").fetchall():
        light = _latest(conn, "light", "r.lux, r.cum_lux_hours", location_id)
        temperature = _latest(conn, "temperature", "r.celsius", location_id)
        locations.append(
            LocationView(
                key,
                name,
                None if light is None else _finite(light[0]),
                None if temperature is None else _finite(temperature[0]),
                None if light is None else _finite(light[1]),
            )
        )
    vials = tuple(
        VialView(
            a.potency.vial.key,
            a.potency.vial.drug,
            a.potency.percent_range.best,
            a.potency.percent_range.low,
            a.verdict.hours_left,
        )
        for a in assess_all(conn, catalog, vial_store.list_all(conn, active_only=True), thresholds, now=now)
    )
    placeholders = ",".join("?" * len(alerts_seen))
    seen_clause = f" OR id IN ({placeholders})" if alerts_seen else ""
    active = ",".join("?" * len(ACTIVE_STATES))
    alerts = tuple(
        AlertView(int(i), rule, message, state in ACTIVE_STATES)
        for i, rule, message, state in conn.execute(
            f"SELECT id, rule, message, state FROM alerts WHERE state IN ({active}){seen_clause} ORDER BY id",
            (*ACTIVE_STATES, *sorted(alerts_seen)),
        ).fetchall()
    )
    return SiteView(site, tuple(locations), vials, alerts)


def object_id(text: str) -> str:
    """A key as Home Assistant's ids allow ([a-zA-Z0-9_-])."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", text)


def device_id(site: str) -> str:
    return f"vialguard-{object_id(site)}"


def discovery_topic(prefix: str, site: str) -> str:
    return f"{prefix}/device/{device_id(site)}/config"


def state_topic(site: str) -> str:
    return f"{TOPIC_ROOT}/{site}/ha/state"


def _sensor(
    uid: str, name: str, unit: str | None, device_class: str | None, expire_after: int
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "p": "sensor",
        "unique_id": uid,
        "name": name,
        "value_template": f"{{{{ value_json.{uid} }}}}",
        "state_class": "measurement",
        "expire_after": expire_after,
    }
    if unit is not None:
        out["unit_of_measurement"] = unit
    if device_class is not None:
        out["device_class"] = device_class
    return out


def _entity_ids(view: SiteView) -> dict[str, str]:
    """Each state field's unique id, by (kind, key); the same in the config and the state message."""
    base = device_id(view.site).replace("-", "_")
    ids = {}
    for loc in view.locations:
        for field in ("lux", "temperature", "dose"):
            ids[f"location:{loc.key}:{field}"] = f"{base}_{object_id(loc.key)}_{field}"
    for vial in view.vials:
        for field in ("potency_best", "potency_low", "hours_left"):
            ids[f"vial:{vial.key}:{field}"] = f"{base}_vial_{object_id(vial.key)}_{field}"
    for alert in view.alerts:
        ids[f"alert:{alert.id}"] = f"{base}_alert_{alert.id}"
    return {k: v.replace("-", "_") for k, v in ids.items()}


def discovery(view: SiteView, expire_after_seconds: int) -> dict[str, Any]:
    """The device-based discovery payload for the site (publish retained, QoS 1)."""
    ids = _entity_ids(view)
    cmps: dict[str, dict[str, Any]] = {}
    for loc in view.locations:
        cmps[ids[f"location:{loc.key}:lux"]] = _sensor(
            ids[f"location:{loc.key}:lux"], f"{loc.name} light", "lx", "illuminance", expire_after_seconds
        )
        cmps[ids[f"location:{loc.key}:temperature"]] = _sensor(
            ids[f"location:{loc.key}:temperature"],
            f"{loc.name} temperature",
            "°C",
            "temperature",
            expire_after_seconds,
        )
        dose = _sensor(
            ids[f"location:{loc.key}:dose"], f"{loc.name} light dose", "lx·h", None, expire_after_seconds
        )
        dose["state_class"] = "total_increasing"
        cmps[ids[f"location:{loc.key}:dose"]] = dose
    for vial in view.vials:
        for field, label, unit in (
            ("potency_best", "potency (best estimate)", "%"),
            ("potency_low", "potency (low bound)", "%"),
            ("hours_left", "hours to do-not-use", "h"),
        ):
            uid = ids[f"vial:{vial.key}:{field}"]
            cmps[uid] = _sensor(uid, f"{vial.key} {label}", unit, None, expire_after_seconds)
    for alert in view.alerts:
        uid = ids[f"alert:{alert.id}"]
        cmps[uid] = {
            "p": "binary_sensor",
            "unique_id": uid,
            "name": f"alert {alert.id}: {alert.rule}",
            "device_class": "problem",
            "value_template": f"{{{{ value_json.{uid} }}}}",
            "payload_on": "ON",
            "payload_off": "OFF",
            "expire_after": expire_after_seconds,
        }
    return {
        "dev": {
            "ids": [device_id(view.site)],
            "name": f"vialguard {view.site}",
            "mf": "vialguard",
            "mdl": "light and temperature stability monitor",
            "sw": version(),
        },
        "o": {"name": "vialguard", "sw": version(), "url": ORIGIN_URL},
        "availability": [
            {
                "topic": status_topic(view.site),
                "payload_available": ONLINE.decode(),
                "payload_not_available": OFFLINE.decode(),
            }
        ],
        "state_topic": state_topic(view.site),
        "qos": 1,
        "cmps": cmps,
    }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def state(view: SiteView) -> dict[str, Any]:
    """The shared state message: every entity's value under its unique id (null: unknown)."""
    ids = _entity_ids(view)
    out: dict[str, Any] = {}
    for loc in view.locations:
        out[ids[f"location:{loc.key}:lux"]] = _rounded(loc.lux, 2)
        out[ids[f"location:{loc.key}:temperature"]] = _rounded(loc.celsius, 2)
        out[ids[f"location:{loc.key}:dose"]] = _rounded(loc.lux_hours, 3)
    for vial in view.vials:
        out[ids[f"vial:{vial.key}:potency_best"]] = _rounded(vial.potency_best_percent, 3)
        out[ids[f"vial:{vial.key}:potency_low"]] = _rounded(vial.potency_low_percent, 3)
        out[ids[f"vial:{vial.key}:hours_left"]] = _rounded(vial.hours_left, 2)
    for alert in view.alerts:
        out[ids[f"alert:{alert.id}"]] = "ON" if alert.active else "OFF"
    return out


class HomeAssistantFeed:
    """Publishes the discovery message (again whenever the entities change, and on every connection)
    and the state message every ``period_seconds``; the uplink calls :meth:`publish` from its loop."""

    def __init__(
        self, site: str, catalog: Catalog, thresholds: Thresholds, prefix: str, period_seconds: float
    ) -> None:
        self.site = site
        self.catalog = catalog
        self.thresholds = thresholds
        self.prefix = prefix
        self.period_seconds = period_seconds
        self.expire_after_seconds = math.ceil(3 * period_seconds)
        self.alerts_seen: frozenset[int] = frozenset()
        self.published_config: dict[str, Any] | None = None
        self.failing = False

    def reconnected(self) -> None:
        """The broker may have lost what was retained (a broker without persistence): send all again."""
        self.published_config = None

    def publish(self, client: mqtt.Client, conn: sqlite3.Connection, now: float) -> None:
        try:
            with snapshot(conn):
                view = read_view(conn, self.site, self.catalog, self.thresholds, now, self.alerts_seen)
        except VialguardError as exc:
            if not self.failing:
                log.warning("Home Assistant's view of the site failed (will try again): %s", exc)
            self.failing = True
            return
        if self.failing:
            log.info("Home Assistant's view of the site is back")
            self.failing = False
        self.alerts_seen = frozenset(a.id for a in view.alerts)
        config = discovery(view, self.expire_after_seconds)
        if config != self.published_config:
            client.publish(discovery_topic(self.prefix, self.site), json.dumps(config), qos=1, retain=True)
            self.published_config = config
        client.publish(state_topic(self.site), json.dumps(state(view)), qos=1, retain=True)
