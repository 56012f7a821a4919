"""Bounded growth: raw readings older than the retention period become one-minute aggregates.

A reading a second is 86,400 rows a day per sensor; years of them would fill an SD card. Past the retention
period (90 days by default) each whole minute of a sensor's readings is replaced by one row: how many
readings, their minimum, mean and maximum, the saturated ones (count and lux sum, for the potency bounds),
the first and last reading's times, the last reading's value, and the ledger: ``cum_end``, its value at
the minute's last reading exactly as it was stored, and ``dose``, the exact increment since the previous
row. The ledger stays exact at every minute's last reading, and the raw readings after the cut continue
from the last aggregate unchanged; inside an aggregated minute the ledger is read as its value at the
previous minute's last reading (short of the truth by at most that minute's dose). Recorded gaps are kept.
Readings still queued for the fleet's central (monitor/store/outbox.py) are kept until it acknowledges them.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import astuple, dataclass

import numpy as np

from monitor.store.database import transaction
from monitor.store.outbox import oldest_queued_reading_ts
from monitor.store.readings import _TABLES
from monitor.store.sites import SensorRecord, list_sensors

MINUTE_SECONDS = 60.0
CHUNK_SECONDS = 3600.0  # an hour of readings a transaction: a commit or a SIGTERM waits under a second


@dataclass(frozen=True, slots=True)
class Aggregate:
    minute_ts: float
    readings: int
    min_value: float
    mean_value: float
    max_value: float
    saturated: int
    saturated_sum: float
    first_ts: float
    last_ts: float
    last_value: float
    cum_end: float
    dose: float


_COLUMNS = (
    "minute_ts, readings, min_value, mean_value, max_value, saturated, saturated_sum, first_ts, last_ts,"
    " last_value, cum_end, dose"
)


def last_aggregate(conn: sqlite3.Connection, sensor_id: int) -> Aggregate | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM minute_aggregates WHERE sensor_id = ? ORDER BY minute_ts DESC LIMIT 1",
        (sensor_id,),
    ).fetchone()
    return None if row is None else Aggregate(*row)


def aggregates(
    conn: sqlite3.Connection, sensor_id: int, start: float = -math.inf, end: float = math.inf
) -> list[Aggregate]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM minute_aggregates WHERE sensor_id = ? AND minute_ts >= ? AND minute_ts <= ?"
        " ORDER BY minute_ts",
        (sensor_id, start, end),
    ).fetchall()
    return [Aggregate(*r) for r in rows]


def minutes_of(
    ts: np.ndarray, values: np.ndarray, saturated: np.ndarray, cum: np.ndarray, previous_cum: float
) -> list[Aggregate]:
    """Readings (time order, whole minutes) as one aggregate a minute, the ledger continuing from
    ``previous_cum``."""
    minute = np.floor(ts / MINUTE_SECONDS) * MINUTE_SECONDS
    starts = np.flatnonzero(np.concatenate(([True], minute[1:] != minute[:-1])))
    ends = np.concatenate((starts[1:], [len(ts)]))
    out: list[Aggregate] = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        v, sat = values[a:b], saturated[a:b]
        cum_end = float(cum[b - 1])
        out.append(
            Aggregate(
                float(minute[a]),
                b - a,
                float(v.min()),
                float(v.mean()),
                float(v.max()),
                int(sat.sum()),
                float(v[sat].sum()),
                float(ts[a]),
                float(ts[b - 1]),
                float(v[-1]),
                cum_end,
                cum_end - previous_cum,
            )
        )
        previous_cum = cum_end
    return out


def insert_aggregates(conn: sqlite3.Connection, sensor_id: int, made: list[Aggregate]) -> None:
    conn.executemany(
        f"INSERT INTO minute_aggregates (sensor_id, {_COLUMNS}) VALUES ({', '.join('?' * 13)})",
        [(sensor_id, *astuple(m)) for m in made],
    )


def downsample_sensor(conn: sqlite3.Connection, sensor: SensorRecord, before_ts: float) -> int:
    """Aggregate ``sensor``'s readings of whole minutes before ``before_ts``; returns readings replaced."""
    table, value, cum = _TABLES[sensor.quantity]
    saturated = "saturated" if sensor.quantity == "light" else "0"
    cutoff = math.floor(before_ts / MINUTE_SECONDS) * MINUTE_SECONDS
    replaced = 0
    while True:
        with transaction(conn):
            # The outbox refers to queued readings without copying them: the minute of the oldest one, and
            # every reading after it, stay raw until central has them.
            queued = oldest_queued_reading_ts(conn, sensor.id)
            if queued is not None:
                cutoff = min(cutoff, math.floor(queued / MINUTE_SECONDS) * MINUTE_SECONDS)
            first = conn.execute(
                f"SELECT ts FROM {table} WHERE sensor_id = ? AND ts < ? ORDER BY ts LIMIT 1",
                (sensor.id, cutoff),
            ).fetchone()
            if first is None:
                return replaced
            # An hour at a time, cut on a minute boundary so no minute is split across chunks.
            upto = min(
                cutoff, math.floor((float(first[0]) + CHUNK_SECONDS) / MINUTE_SECONDS) * MINUTE_SECONDS
            )
            upto = max(upto, math.floor(float(first[0]) / MINUTE_SECONDS) * MINUTE_SECONDS + MINUTE_SECONDS)
            rows = conn.execute(
                f"SELECT ts, {value}, {saturated}, {cum} FROM {table}"
                " WHERE sensor_id = ? AND ts < ? ORDER BY ts",
                (sensor.id, upto),
            ).fetchall()
            arr = np.asarray(rows, dtype=np.float64)
            previous = last_aggregate(conn, sensor.id)
            made = minutes_of(
                arr[:, 0],
                arr[:, 1],
                arr[:, 2].astype(bool),
                arr[:, 3],
                0.0 if previous is None else previous.cum_end,
            )
            insert_aggregates(conn, sensor.id, made)
            conn.execute(f"DELETE FROM {table} WHERE sensor_id = ? AND ts < ?", (sensor.id, upto))
            replaced += len(rows)


def downsample(conn: sqlite3.Connection, before_ts: float) -> int:
    """Every sensor's readings before ``before_ts`` into one-minute aggregates; returns readings replaced."""
    return sum(downsample_sensor(conn, s, before_ts) for s in list_sensors(conn))
