"""Central ingests a group of batches in one transaction, each as if alone and in order."""

from __future__ import annotations

import psycopg

from fleet.central.ingest import ingest_group
from fleet.central.partitions import Partitions
from fleet.central.schema import migrate
from fleet.protocol import Ack, Batch, Row

T0 = 1_796_000_000.0


def batch(site: str, seqs: range) -> Batch:
    rows = tuple(
        Row(s, "light", {"sensor": "lux", "ts": T0 + s, "lux": 1.0, "saturated": False, "cum_lux_hours": 0.0})
        for s in seqs
    )
    return Batch(site, "e1", 0, rows, T0, max(seqs), None)


def test_a_group_continues_each_site_in_order(postgres: str) -> None:
    """Later batches of a site continue from the earlier ones of the same group; a batch that leaves a
    hole is refused alone; another site's batch is unaffected; every reading is stored once."""
    group = [
        batch("north", range(1, 3)),
        batch("south", range(1, 4)),
        batch("north", range(3, 4)),
        batch("north", range(6, 7)),  # 4 and 5 lost on the way: refused
        batch("north", range(2, 6)),  # a resend overlapping what the group already stored
    ]
    with psycopg.connect(postgres) as conn:
        migrate(conn)
        done = ingest_group(conn, Partitions(), group, T0 + 10)
        stored = dict(conn.execute("SELECT site, readings FROM sites ORDER BY site").fetchall())
        rows = conn.execute("SELECT count(*), count(DISTINCT (site, ts)) FROM light_readings").fetchone()
    assert [d.ack for d in done] == [
        Ack("e1", 2),
        Ack("e1", 3),
        Ack("e1", 3),
        Ack("e1", 3, refused_first=6),
        Ack("e1", 5),
    ]
    assert stored == {"north": 5, "south": 3}
    assert rows == (8, 8)


def test_a_group_counts_each_batch_and_keeps_its_other_rows(postgres: str) -> None:
    """In one group: each batch's new readings are counted for it (a reading sent again under another
    number is stored once, counted for the first batch), a batch's other rows are stored beside the
    readings, and the sites' counters add up to what is stored."""
    again = Row(
        3, "light", {"sensor": "lux", "ts": T0 + 1, "lux": 1.0, "saturated": False, "cum_lux_hours": 0.0}
    )
    gap = Row(4, "gap", {"sensor": "lux", "start_ts": T0 + 2, "end_ts": T0 + 3})
    temperature = Row(5, "temperature", {"sensor": "temp", "ts": T0 + 4, "celsius": 4.0})
    group = [
        batch("north", range(1, 3)),
        Batch("north", "e1", 0, (again, gap, temperature), T0, 5, None),
        batch("south", range(1, 2)),
    ]
    with psycopg.connect(postgres) as conn:
        migrate(conn)
        done = ingest_group(conn, Partitions(), group, T0 + 10)
        stored = dict(conn.execute("SELECT site, readings FROM sites ORDER BY site").fetchall())
        records = conn.execute("SELECT site, seq, kind FROM site_records").fetchall()
        points = conn.execute("SELECT site, acked_seq FROM site_epochs ORDER BY site").fetchall()
    assert [(d.ack, d.readings_added, d.records_added) for d in done] == [
        (Ack("e1", 2), 2, 0),
        (Ack("e1", 5), 1, 1),
        (Ack("e1", 1), 1, 0),
    ]
    assert stored == {"north": 3, "south": 1}
    assert records == [("north", 4, "gap")]
    assert points == [("north", 5), ("south", 1)]
