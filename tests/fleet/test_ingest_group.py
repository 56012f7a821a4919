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
