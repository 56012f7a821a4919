"""A site's alerts as central holds them: each alert as it stood after each change the site sent
(``alert_feed``, one row per change, numbered by the site's own ``seq``), read back in the site's shapes
(:class:`~monitor.store.alerts.AlertRecord`, :class:`~monitor.store.alerts.AlertEvent`) for the site's own
API served at central (:mod:`fleet.central.site_store`).

An alert is its newest change. The site's ids and seqs travel verbatim, so a cursor from the site's own
``/api/v1/alerts`` is a cursor here too. What central never receives: an alert's ``snapshot`` (the rule's
parameters when it fired; shown as an object naming that it stays at the site) and the changes an alert
went through before the site's uplink was enabled (the back-fill sends each alert as it then stood).
Central keeps resolved alerts the site has since purged.
"""

from __future__ import annotations

import json
from typing import Any, cast

import psycopg

from monitor.alerts.vocabulary import AlertClass, AlertState, Severity
from monitor.errors import NotFound
from monitor.reporting import AlertHistory
from monitor.store.alerts import AlertEvent, AlertFilter, AlertRecord
from monitor.store.keys import KeyNames

Connection = psycopg.Connection[tuple[Any, ...]]

# What the alert's detail shows for the snapshot central never receives.
SNAPSHOT_AT_SITE = json.dumps(
    {"held_at": "site", "reason": "the site does not send an alert's snapshot to central"}
)

# Each alert's newest change: the alert as it stands.
_NEWEST = (
    "SELECT DISTINCT ON (alert_id) event_seq, record FROM alert_feed WHERE site = %(site)s"
    " ORDER BY alert_id, event_seq DESC"
)


def _float(x: Any) -> float | None:
    return None if x is None else float(x)


def _id(names: dict[str, int], key: Any) -> int | None:
    return None if key is None else names.get(str(key))


def _record(r: dict[str, Any], ids: KeyNames) -> AlertRecord:
    """The alert of one feed row; its location, vial and sensor keys back to the site's ids."""
    locations = {v: k for k, v in ids.locations.items()}
    vials = {v: k for k, v in ids.vials.items()}
    sensors = {v: k for k, v in ids.sensors.items()}
    return AlertRecord(
        id=int(r["id"]),
        fingerprint=str(r["fingerprint"]),
        rule=str(r["rule"]),
        severity=cast(Severity, r["severity"]),
        state=cast(AlertState, r["state"]),
        location_id=_id(locations, r.get("location")),
        vial_id=_id(vials, r.get("vial")),
        sensor_id=_id(sensors, r.get("sensor")),
        started_ts=float(r["started_ts"]),
        fired_ts=_float(r.get("fired_ts")),
        ended_ts=_float(r.get("ended_ts")),
        value=_float(r.get("value")),
        worst_value=_float(r.get("worst_value")),
        message=str(r["message"]),
        ack_by=r.get("acknowledged_by"),
        ack_comment=r.get("acknowledgement_comment"),
        ack_ts=_float(r.get("ack_ts")),
        seq=int(r["event_seq"]),
        alert_class=cast(AlertClass, r["alert_class"]),
        snapshot=SNAPSHOT_AT_SITE,
        escalated_ts=_float(r.get("escalated_ts")),
        silence_id=None if r.get("silence_id") is None else int(r["silence_id"]),
    )


def _event(alert_id: int, seq: int, r: dict[str, Any]) -> AlertEvent:
    return AlertEvent(seq, alert_id, float(r["event_ts"]), str(r["event_kind"]), str(r["event_detail"]))


def key_names(conn: Connection, site: str) -> KeyNames:
    """Every location's, vial's and sensor's key by the site's id, from central's config mirror."""

    def keyed(table: str) -> dict[int, str]:
        rows = conn.execute(f"SELECT site_id, key FROM {table} WHERE site = %s", (site,)).fetchall()
        return {int(i): str(k) for i, k in rows}

    return KeyNames(keyed("site_locations"), keyed("site_vials"), keyed("site_sensors"))


def latest_seq(conn: Connection, site: str) -> int:
    row = conn.execute("SELECT max(event_seq) FROM alert_feed WHERE site = %s", (site,)).fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def changed_since(
    conn: Connection, site: str, cursor: int, where: AlertFilter, limit: int, ids: KeyNames
) -> list[AlertRecord]:
    """Alerts whose newest change is after ``cursor`` and that match ``where``, oldest change first."""
    params: dict[str, Any] = {"site": site, "cursor": cursor, "limit": limit}
    sql = ""
    for field, value in (
        ("state", where.state),
        ("severity", where.severity),
        ("rule", where.rule),
        ("alert_class", where.alert_class),
        ("location", None if where.location_id is None else ids.locations.get(where.location_id, "")),
        ("vial", None if where.vial_id is None else ids.vials.get(where.vial_id, "")),
        ("sensor", None if where.sensor_id is None else ids.sensors.get(where.sensor_id, "")),
    ):
        if value is not None:
            sql += f" AND a.record->>'{field}' = %({field})s"  # field names from this table
            params[field] = value
    rows = conn.execute(
        f"SELECT a.record FROM ({_NEWEST}) AS a WHERE a.event_seq > %(cursor)s{sql}"
        " ORDER BY a.event_seq LIMIT %(limit)s",
        params,
    ).fetchall()
    return [_record(r[0], ids) for r in rows]


def alert(conn: Connection, site: str, alert_id: int, ids: KeyNames) -> AlertRecord:
    row = conn.execute(
        "SELECT record FROM alert_feed WHERE site = %s AND alert_id = %s ORDER BY event_seq DESC LIMIT 1",
        (site, alert_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"no alert with id {alert_id}")
    return _record(row[0], ids)


def events(conn: Connection, site: str, alert_id: int) -> list[AlertEvent]:
    """The alert's changes central holds, in seq order."""
    return [
        _event(alert_id, int(seq), r)
        for seq, r in conn.execute(
            "SELECT event_seq, record FROM alert_feed WHERE site = %s AND alert_id = %s ORDER BY event_seq",
            (site, alert_id),
        ).fetchall()
    ]


def counts(conn: Connection, site: str) -> dict[tuple[AlertState, Severity], int]:
    """Alerts by state and severity, each as it stands (a pair with none is absent)."""
    rows = conn.execute(
        f"SELECT a.record->>'state', a.record->>'severity', count(*) FROM ({_NEWEST}) AS a GROUP BY 1, 2",
        {"site": site},
    ).fetchall()
    return {(cast(AlertState, st), cast(Severity, sv)): int(n) for st, sv, n in rows}


def histories(
    conn: Connection,
    site: str,
    start: float,
    end: float,
    ids: KeyNames,
    *,
    location: str | None = None,
    vial: str | None = None,
) -> tuple[AlertHistory, ...]:
    """The alerts active at some time in ``[start, end]`` (fired by its end, not resolved before its
    start), at ``location`` or for ``vial`` (keys), each with the changes central holds, in the order of
    :func:`monitor.store.history.alert_ids_between`: two statements."""
    where = {"location": location, "vial": vial}
    sql = "".join(
        f" AND a.record->>'{k}' = %({k})s" for k, v in where.items() if v is not None
    )  # names above
    found = [
        _record(r, ids)
        for (r,) in conn.execute(
            f"SELECT a.record FROM ({_NEWEST}) AS a WHERE (a.record->>'fired_ts')::float8 <= %(end)s"
            " AND (a.record->>'ended_ts' IS NULL OR (a.record->>'ended_ts')::float8 >= %(start)s)"
            f"{sql} ORDER BY (a.record->>'fired_ts')::float8, (a.record->>'id')::int8",
            {"site": site, "start": start, "end": end, **where},
        ).fetchall()
    ]
    changes: dict[int, list[AlertEvent]] = {a.id: [] for a in found}
    for alert_id, seq, r in conn.execute(
        "SELECT alert_id, event_seq, record FROM alert_feed WHERE site = %s AND alert_id = ANY(%s)"
        " ORDER BY alert_id, event_seq",
        (site, list(changes)),
    ).fetchall():
        changes[int(alert_id)].append(_event(int(alert_id), int(seq), r))
    return tuple(AlertHistory(a, tuple(changes[a.id])) for a in found)
