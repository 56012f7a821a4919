"""The site's cost of proving its rows to central: the uplink's send path with the outbox's running digest.

Each row the uplink sends extends a SHA-256 chain (:func:`monitor.store.outbox_chain.chain`), computed when
the row is read for sending, not when it is written: the bridge's transactions and the outbox's triggers
are unchanged, so the Pi's write path costs nothing more. This measures what it does cost: reading a
site's back-fill from the outbox in batches of 500 (each reading looked up in full, as sent) and encoding
each batch, with the digests and the batch's ``chain`` field, against the same path without them in the
same run (the read and the encoding as they were before the chain). Workload: a day of a simulated
site's readings, light at 1 Hz and temperature every 10 s, queued by the outbox's triggers in a real
SQLite file.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import Figure, figure
from fleet.demo import site_settings
from fleet.protocol import Batch, Chain, Row, encode_batch
from monitor.config import load_settings
from monitor.site_sync import sync_site
from monitor.store import Database
from monitor.store import outbox as outbox_store
from monitor.store.database import transaction

SITE = "bench-site"
BATCH_ROWS = 500
T0 = 1_767_225_600.0
TARGET_RATIO = 1.25  # the chain may add at most a quarter to the send path


def _site(directory: Path, seconds: int) -> sqlite3.Connection:
    """A site database with the outbox enabled and ``seconds`` of readings queued by its triggers."""
    settings = load_settings(site_settings(directory, SITE, "mqtt://127.0.0.1:1883", 8080))
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, T0)
    with transaction(conn):
        outbox_store.enable(conn, SITE)
        light, temperature = (
            int(conn.execute("SELECT min(id) FROM sensors WHERE quantity = ?", (q,)).fetchone()[0])
            for q in ("light", "temperature")
        )
        conn.executemany(
            "INSERT INTO light_readings (sensor_id, ts, lux, saturated, cum_lux_hours)"
            " VALUES (?, ?, ?, 0, ?)",
            ((light, T0 + s, 600.0 if s % 8640 < 60 else 0.0, s / 3600.0) for s in range(seconds)),
        )
        conn.executemany(
            "INSERT INTO temperature_readings (sensor_id, ts, celsius, cum_equivalent_hours)"
            " VALUES (?, ?, ?, ?)",
            ((temperature, T0 + s, 4.5, s / 3600.0) for s in range(0, seconds, 10)),
        )
    return conn


def _unchained(conn: sqlite3.Connection, after_seq: int, limit: int) -> list[outbox_store.OutboxRow]:
    """The outbox read as it was before the chain: the same rows, no queued time, no digest."""
    out: list[outbox_store.OutboxRow] = []
    for seq, kind, sensor_id, ts, body in conn.execute(
        "SELECT seq, kind, sensor_id, ts, body FROM uplink_outbox WHERE seq > ? ORDER BY seq LIMIT ?",
        (after_seq, limit),
    ).fetchall():
        record: dict[str, Any] | None
        if kind in outbox_store._READING_SQL:  # the same reading lookup
            sql, names = outbox_store._READING_SQL[kind]
            found = conn.execute(sql, (sensor_id, ts)).fetchone()
            record = None if found is None else dict(zip(names, found, strict=True))
        else:
            record = None if body is None else json.loads(body)
        out.append(outbox_store.OutboxRow(int(seq), str(kind), record, ""))
    return out


def _batch(rows: list[Row], chain: Chain | None) -> bytes:
    return encode_batch(Batch(SITE, "e", 0, tuple(rows), time.time(), rows[-1].seq, None, chain))


def send_all(conn: sqlite3.Connection, *, chained: bool) -> int:
    """Read and encode every queued row in batches, as the uplink sends them; the bytes encoded."""
    after, digest, sent = 0, "", 0
    while True:
        if chained:
            rows = outbox_store.pending(conn, after, BATCH_ROWS, digest)
            if not rows:
                return sent
            sent += len(_batch([Row(r.seq, r.kind, r.record) for r in rows], Chain(digest, rows[-1].digest)))
            after, digest = rows[-1].seq, rows[-1].digest
        else:
            plain = _unchained(conn, after, BATCH_ROWS)
            if not plain:
                return sent
            sent += len(_batch([Row(r.seq, r.kind, r.record) for r in plain], None))
            after = plain[-1].seq


def run(smoke: bool) -> list[Figure]:
    seconds = 3_600 if smoke else 86_400
    repeats = 1 if smoke else 7
    directory = Path(tempfile.mkdtemp(prefix="vialguard-bench-chain-"))
    try:
        conn = _site(directory, seconds)
        rows = int(conn.execute("SELECT count(*) FROM uplink_outbox").fetchone()[0])
        send_all(conn, chained=True)  # warm the page cache for both
        # Alternated, and in the process's CPU time: the machine is shared, and its load moved wall-clock
        # medians of the same path by half between runs.
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(repeats):
            for chained_path in (True, False):
                started = time.process_time()
                send_all(conn, chained=chained_path)
                times[chained_path].append(time.process_time() - started)
        chained = statistics.median(times[True]) / rows
        plain = statistics.median(times[False]) / rows
        conn.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return [
        figure(
            f"site uplink send path per row, with the ownership chain ({rows} rows)",
            chained * 1e6,
            plain * 1e6,
            "the same read and encoding without the chain",
            "µs/row (CPU)",
            f"ratio <= {TARGET_RATIO}",
            chained <= plain * TARGET_RATIO,
        )
    ]
