"""The alert page, serialised from plain data, is byte for byte what the validated models gave."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import get_type_hints

from hypothesis import given, settings
from hypothesis import strategies as st

from api.routes.alerts import page_json, to_schema
from api.schemas import Alert, AlertFields, AlertPage
from monitor.alerts.vocabulary import ALERT_CLASSES, ALERT_STATES, SEVERITIES
from monitor.store import alerts, keys, sites
from monitor.store.alerts import AlertRecord
from monitor.store.database import transaction
from monitor.store.keys import KeyNames
from monitor.timestamps import EARLIEST_TS, LATEST_TS
from tests.api.conftest import Served


def old_iso(ts: float | None) -> str | None:
    """The API's time formatting before the fast path: ``fromtimestamp`` in UTC, ``Z`` for ``+00:00``."""
    if ts is None:
        return None
    try:
        dt = datetime.fromtimestamp(ts, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return dt.isoformat().replace("+00:00", "Z")


def old_alert(a: AlertRecord, names: KeyNames) -> Alert:
    """The shaping the page used before: one validated :class:`Alert` per record."""
    locations, vials, sensors = names.locations, names.vials, names.sensors
    return Alert(
        id=a.id,
        fingerprint=a.fingerprint,
        rule=a.rule,
        severity=a.severity,
        state=a.state,
        alert_class=a.alert_class,
        location=None if a.location_id is None else locations.get(a.location_id),
        vial=None if a.vial_id is None else vials.get(a.vial_id),
        sensor=None if a.sensor_id is None else sensors.get(a.sensor_id),
        started_at=old_iso(a.started_ts),
        fired_at=old_iso(a.fired_ts),
        ended_at=old_iso(a.ended_ts),
        value=a.value,
        worst_value=a.worst_value,
        message=a.message,
        acknowledged_by=a.ack_by,
        acknowledgement_comment=a.ack_comment,
        acknowledged_at=old_iso(a.ack_ts),
        escalated_at=old_iso(a.escalated_ts),
        silenced=a.silence_id is not None,
        silence_id=a.silence_id,
        seq=a.seq,
    )


def old_page(rows: list[AlertRecord], names: KeyNames, cursor: int, more: bool) -> bytes:
    page = AlertPage(alerts=[old_alert(a, names) for a in rows], cursor=cursor, has_more=more)
    return page.model_dump_json().encode()


NAMES = KeyNames(
    locations={1: "fridge-1", 2: 'fridge "2" \\ ünïcode'},
    vials={7: "vial-7", 8: "v\u2028\u0000\x1f"},
    sensors={3: "lux-1"},
)
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXT = st.text(max_size=40)
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
WINDOW = st.floats(min_value=EARLIEST_TS, max_value=LATEST_TS)
EDGES = st.sampled_from([0.0, -0.0, 0.0078125, 1e-7, LATEST_TS, 253_402_300_800.0])  # ties, calendar's end
TIME = st.one_of(WINDOW, ANY_FLOAT, EDGES)
VALUE = st.one_of(st.none(), ANY_FLOAT, st.integers(min_value=-(10**6), max_value=10**6).map(float))


def _id(known: dict[int, str]) -> st.SearchStrategy[int | None]:
    """An id with a key, one without (a row since deleted), or none."""
    return st.one_of(st.none(), st.sampled_from(sorted(known)), INT64)


@st.composite
def records(draw: st.DrawFn) -> AlertRecord:
    started = draw(TIME)
    # Most alerts that breach at once fired when they started; -started is the same instant for 0.0.
    fired = draw(st.one_of(st.none(), st.just(started), st.just(-started), TIME))
    return AlertRecord(
        id=draw(INT64),
        fingerprint=draw(TEXT),
        rule=draw(TEXT),
        severity=draw(st.sampled_from(SEVERITIES)),
        state=draw(st.sampled_from(ALERT_STATES)),
        location_id=draw(_id(NAMES.locations)),
        vial_id=draw(_id(NAMES.vials)),
        sensor_id=draw(_id(NAMES.sensors)),
        started_ts=started,
        fired_ts=fired,
        ended_ts=draw(st.none() | TIME),
        value=draw(VALUE),
        worst_value=draw(VALUE),
        message=draw(TEXT),
        ack_by=draw(st.none() | TEXT),
        ack_comment=draw(st.none() | TEXT),
        ack_ts=draw(st.none() | TIME),
        seq=draw(INT64),
        alert_class=draw(st.sampled_from(ALERT_CLASSES)),
        snapshot=draw(st.just("{}")),
        escalated_ts=draw(st.none() | TIME),
        silence_id=draw(st.none() | INT64),
    )


def test_alert_fields_are_the_alert_schema_fields() -> None:
    """The plain-data shape names Alert's fields in Alert's order, with Alert's types."""
    hints = get_type_hints(AlertFields)
    assert list(hints) == list(Alert.model_fields)
    assert hints == {name: field.annotation for name, field in Alert.model_fields.items()}


@settings(max_examples=300, deadline=None)
@given(st.lists(records(), max_size=3), INT64, st.booleans())
def test_page_bytes_equal_the_validated_models(rows: list[AlertRecord], cursor: int, more: bool) -> None:
    """Any records: texts to escape, NaN and infinite values, times out of every range, unknown ids."""
    assert page_json(rows, NAMES, cursor, more) == old_page(rows, NAMES, cursor, more)


@settings(max_examples=300, deadline=None)
@given(records())
def test_one_alert_equals_the_validated_model(a: AlertRecord) -> None:
    """The single alert (acknowledgement, detail) serialises as before too."""
    assert to_schema(a, NAMES).model_dump_json() == old_alert(a, NAMES).model_dump_json()


def test_served_page_and_detail_bytes_equal_the_old_shaping(served: Served) -> None:
    """Alerts of every kind in the real store, served by the real app: the page's bytes and each detail
    as the validated models give them from the same records."""
    conn = served.database.connect()
    fridge = sites.location_by_key(conn, "fridge-1").id
    now = served.clock.wall()

    def new(i: int, started: float, fired: float | None, value: float, message: str) -> alerts.NewAlert:
        return alerts.NewAlert(
            fingerprint=f"fp-{i}",
            rule=f"rule-{i % 3}",
            severity=SEVERITIES[i % len(SEVERITIES)],
            location_id=fridge if i % 2 else None,
            vial_id=None,
            sensor_id=None,
            started_ts=started,
            fired_ts=fired,
            value=value,
            message=message,
            alert_class=ALERT_CLASSES[i % len(ALERT_CLASSES)],
        )

    cases = [
        (now, now, 800.0, "at once"),
        (now - 0.5e-6, None, 1e-300, "pending, half a microsecond"),
        (now + 0.0078125, now + 1.0000005, -0.0, "ties"),
        (0.0, 1e20, 1e16, "epoch; fired past every calendar"),
        (-1.5, -1.5, 123456789.123456789, "before the epoch"),
        (LATEST_TS, LATEST_TS + 0.999999, math.pi, 'quotes " \\ and ünïcode \u2028 \x07'),
    ]
    try:
        with transaction(conn):
            ids = [alerts.open_alert(conn, new(i, *case)) for i, case in enumerate(cases)]
            alerts.update(conn, ids[0], now + 1, 900.5, "worse")
            alerts.acknowledge(conn, ids[0], "ana", "moved the vials", now + 2.25)
            alerts.escalate(conn, ids[3], now + 3, "critical", "unacknowledged")
            alerts.resolve(conn, ids[4], now + 4, "cleared", ended_ts=now + 3.999999)
            alerts.set_silence(conn, ids[5], 41, now + 5)
        rows = alerts.changed_since(conn, 0, limit=100)
        names = keys.key_names(conn)
        latest = alerts.latest_seq(conn)
    finally:
        conn.close()
    assert {a.id for a in rows} == set(ids)

    page = served.client.get("/api/v1/alerts", params={"limit": 100})
    assert page.status_code == 200
    assert page.content == old_page(rows, names, latest, False)
    for a in rows:
        detail = served.client.get(f"/api/v1/alerts/{a.id}").json()
        old = old_alert(a, names).model_dump(mode="json")
        assert {k: v for k, v in detail.items() if k not in ("events", "snapshot")} == old
