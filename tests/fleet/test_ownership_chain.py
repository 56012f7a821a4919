"""Central's side of the proof that the rows it holds are the site's own: the digest kept at the point and
returned in the acknowledgement, batches that do not continue it refused, a new epoch's resend stored
once and reported, sites and centrals without digests going on as before."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from fleet.central import queries
from fleet.central.ingest import ingest
from fleet.central.partitions import Partitions
from fleet.central.schema import MIGRATIONS, migrate
from fleet.protocol import Ack, Batch, Chain, Fork, ProtocolError, Row, decode_ack, decode_batch, encode_batch

T0 = 1_796_000_000.0
SITE = "north"


def reading(seq: int) -> Row:
    return Row(
        seq, "light", {"sensor": "lux", "ts": T0 + seq, "lux": 1.0, "saturated": False, "cum_lux_hours": 0}
    )


def batch(
    first: int,
    last: int,
    chain: tuple[str, str] | None,
    epoch: str = "e1",
    base: int = 0,
    rows: tuple[Row, ...] | None = None,
    fork: Fork | None = None,
) -> Batch:
    found = tuple(reading(s) for s in range(first, last + 1)) if rows is None else rows
    return Batch(SITE, epoch, base, found, T0, last, None, None if chain is None else Chain(*chain), fork)


def test_the_digest_is_kept_at_the_point_and_a_batch_must_continue_it(postgres: str) -> None:
    """An accepted batch leaves its digest at the point and in the acknowledgement; a batch whose digest
    before its rows is not central's is refused whole; one that overlaps the point is asked to start at
    point + 1; a batch without digests (a site that sends none) is taken as before."""
    with psycopg.connect(postgres) as conn:
        migrate(conn)
        first = ingest(conn, Partitions(), batch(1, 3, ("", "d3")), T0)
        forged = ingest(conn, Partitions(), batch(4, 5, ("other", "x5")), T0)
        overlap = ingest(conn, Partitions(), batch(2, 5, ("d1", "d5")), T0)
        again = ingest(conn, Partitions(), batch(1, 3, ("", "d3")), T0)
        good = ingest(conn, Partitions(), batch(4, 5, ("d3", "d5")), T0)
        plain = ingest(conn, Partitions(), batch(6, 6, None), T0)
        after_plain = ingest(conn, Partitions(), batch(7, 7, ("anything", "d7")), T0)
        readings = conn.execute("SELECT readings FROM sites").fetchone()
    assert first.ack == Ack("e1", 3, None, "d3")
    assert forged.ack == Ack("e1", 3, 4, "d3")
    assert overlap.ack == Ack("e1", 3, 4, "d3")
    assert again.ack == Ack("e1", 3, None, "d3")  # all held: nothing to check, nothing stored
    assert good.ack == Ack("e1", 5, None, "d5")
    assert plain.ack == Ack("e1", 6, None, None)
    assert after_plain.ack == Ack("e1", 7, None, "d7")  # nothing to check against: taken, as before
    assert readings == (7,)


def _records(conn: psycopg.Connection[tuple[Any, ...]]) -> list[tuple[str, int, str]]:
    rows = conn.execute("SELECT epoch, seq, kind FROM site_records ORDER BY epoch, seq").fetchall()
    return [(str(e), int(s), str(k)) for e, s, k in rows]


def test_a_new_epoch_sends_again_without_duplicates_and_keeps_conflicts_apart(postgres: str) -> None:
    """Under a new epoch that a site drew because central's rows were not its own, a gap central holds
    unchanged under the same number is not stored again, a vial event whose id central holds with other
    content is kept apart (not lost), a new one is stored, and the sites' figures report the epoch."""
    gap = Row(1, "gap", {"id": 1, "sensor": "lux", "start_ts": T0, "end_ts": T0 + 60, "reason": "dropout"})
    lost = Row(2, "vial-event", {"id": 7, "vial": "v1", "kind": "moved", "ts": T0 + 100})
    restored = Row(2, "vial-event", {"id": 7, "vial": "v1", "kind": "administered", "ts": T0 + 200})
    new = Row(3, "vial-event", {"id": 8, "vial": "v1", "kind": "moved", "ts": T0 + 300})
    reason = "central's rows of epoch e1 through 2 are not this database's"
    with psycopg.connect(postgres) as conn:
        migrate(conn)
        ingest(conn, Partitions(), batch(1, 2, ("", "x2"), rows=(gap, lost)), T0)
        resent = ingest(
            conn,
            Partitions(),
            batch(1, 3, ("", "y3"), epoch="e2", rows=(gap, restored, new), fork=Fork("e1", reason)),
            T0 + 5,
        )
        records = _records(conn)
        conflicts = conn.execute(
            "SELECT epoch, seq, natural_key, record->>'kind' FROM site_record_conflicts"
        ).fetchall()
        (site,) = queries.sites(conn)
    assert resent.ack == Ack("e2", 3, None, "y3")
    assert resent.conflicts == 1
    assert records == [("e1", 1, "gap"), ("e1", 2, "vial-event"), ("e2", 3, "vial-event")]
    assert conflicts == [("e2", 2, "7", "administered")]
    assert site.record_conflicts == 1
    assert [(e.epoch, e.base, e.through, e.parent, e.reason) for e in site.epochs] == [
        ("e1", 0, 2, None, None),
        ("e2", 0, 3, "e1", reason),
    ]
    assert site.restored_ts == pytest.approx(T0 + 5)
    assert site.epochs[1].started_ts == site.restored_ts


def test_a_central_of_schema_4_migrates_and_checks_from_its_next_batch(postgres: str) -> None:
    """An existing central: its epochs keep their points with no digest (their rows came without one);
    the next batch with a digest is taken, and the one after must continue it."""
    with psycopg.connect(postgres) as conn:
        with conn.transaction():
            conn.execute("CREATE TABLE central_schema (version integer NOT NULL)")
            conn.execute("INSERT INTO central_schema (version) VALUES (4)")
            for sql in MIGRATIONS[:4]:
                conn.execute(sql)
            # What an old central stored for a site whose first two rows it committed.
            conn.execute(
                "INSERT INTO sites (site, first_seen_at, last_seen_at) VALUES (%s, now(), now())", (SITE,)
            )
            conn.execute(
                "INSERT INTO site_epochs (site, epoch, base_seq, acked_seq, acked_at)"
                " VALUES (%s, 'e1', 0, 2, now())",
                (SITE,),
            )
        assert migrate(conn) == 4
        point = conn.execute("SELECT acked_seq, acked_digest, started_at FROM site_epochs").fetchone()
        taken = ingest(conn, Partitions(), batch(3, 4, ("", "d4")), T0)
        refused = ingest(conn, Partitions(), batch(5, 5, ("", "d5")), T0)
    assert point == (2, None, None)
    assert taken.ack == Ack("e1", 4, None, "d4")
    assert refused.ack == Ack("e1", 4, 5, "d4")


def test_messages_without_digests_still_read() -> None:
    """A batch and an acknowledgement of a site or central without digests decode as before (protocol
    1, the fields optional); with them, they travel intact."""
    old_batch = (
        b'{"v":1,"site":"north","epoch":"e1","base":0,"sent_ts":1.0,'
        b'"backlog":{"through":1,"oldest_queued_ts":null},"rows":[{"seq":1,"kind":"gap","record":{}}]}'
    )
    decoded = decode_batch(old_batch, SITE)
    assert (decoded.chain, decoded.fork) == (None, None)
    assert decode_ack(b'{"v":1,"epoch":"e1","through":3}') == Ack("e1", 3)
    full = batch(1, 2, ("", "d2"), fork=Fork(None, "restored from a backup"))
    assert decode_batch(encode_batch(full), SITE) == full
    assert decode_ack(b'{"v":1,"epoch":"e1","through":3,"digest":"d3"}') == Ack("e1", 3, None, "d3")
    with pytest.raises(ProtocolError):
        decode_batch(old_batch.replace(b'"rows"', b'"chain":{"before":1},"rows"'), SITE)
