"""Retention at central drops whole monthly partitions of readings, and the sites' counters with them."""

from __future__ import annotations

from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg

from fleet.central.ingest import ingest
from fleet.central.partitions import Partitions
from fleet.central.retention import drop_before, partitions
from fleet.central.schema import migrate
from fleet.central.service import RETENTION_CHECK_SECONDS, Ingester
from fleet.protocol import Batch, Row, batch_topic, encode_batch

SITE = "ward-3"
EPOCH = "e1"


def ts(year: int, month: int, day: int = 10) -> float:
    return datetime(year, month, day, tzinfo=UTC).timestamp()


def batch(first_seq: int, times: list[float]) -> Batch:
    rows = tuple(
        Row(
            first_seq + i,
            "light",
            {"sensor": "fridge-1-lux", "ts": t, "lux": 5.0, "saturated": False, "cum_lux_hours": 1.0},
        )
        for i, t in enumerate(times)
    )
    return Batch(SITE, EPOCH, 0, rows, times[-1], first_seq + len(times) - 1, None)


def readings_counter(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    row = conn.execute("SELECT readings FROM sites WHERE site = %s", (SITE,)).fetchone()
    assert row is not None
    return int(str(row[0]))


def test_old_months_are_dropped_whole_and_counted_out(postgres: str) -> None:
    """Partitions whose month ended before the cutoff go, with their readings in the site's counter; the
    month the cutoff falls in stays; a late reading for a dropped month makes its partition again."""
    with psycopg.connect(postgres) as conn:
        migrate(conn)
        parts = Partitions()
        ingest(conn, parts, batch(1, [ts(2026, 1), ts(2026, 1, 20), ts(2026, 2), ts(2026, 3)]), ts(2026, 3))
        assert readings_counter(conn) == 4
        dropped = drop_before(conn, ts(2026, 2, 15))
        assert [(d.partition, d.readings) for d in dropped] == [("light_readings_y2026m01", 2)]
        assert partitions(conn) == ["light_readings_y2026m02", "light_readings_y2026m03"]
        assert readings_counter(conn) == 2
        total = conn.execute("SELECT count(*) FROM light_readings").fetchone()
        assert total == (2,)
        parts.forget()
        ingest(conn, parts, batch(5, [ts(2026, 1, 25)]), ts(2026, 3))
        assert "light_readings_y2026m01" in partitions(conn)
        assert readings_counter(conn) == 3


def test_central_drops_on_its_ingest_thread_when_due(postgres: str) -> None:
    """With keep_days, the ingester drops old partitions before a message, once per check period."""
    now = [ts(2026, 6)]
    ingester = Ingester(postgres, clock=lambda: now[0], keep_days=60)
    ingester.migrate()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)  # never connected: acknowledgements go nowhere

    def deliver(b: Batch) -> None:
        message = mqtt.MQTTMessage(topic=batch_topic(SITE).encode())
        message.payload = encode_batch(b)
        ingester.handle(client, [message])

    deliver(batch(1, [ts(2026, 1), ts(2026, 3), ts(2026, 5)]))
    with psycopg.connect(postgres) as conn:
        assert partitions(conn) == [f"light_readings_y2026m0{m}" for m in (1, 3, 5)]
    now[0] += 0.5 * RETENTION_CHECK_SECONDS  # the first pass was at the first message: none due yet
    deliver(batch(4, [ts(2026, 5, 30)]))
    with psycopg.connect(postgres) as conn:
        assert len(partitions(conn)) == 3
    now[0] += RETENTION_CHECK_SECONDS  # due: 60 days before 1 June, January and March have ended
    deliver(batch(5, [ts(2026, 5, 31)]))
    with psycopg.connect(postgres) as conn:
        assert partitions(conn) == ["light_readings_y2026m05"]
        assert readings_counter(conn) == 3
    assert ingester.conn is not None
    ingester.conn.close()
